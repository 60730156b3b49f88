package faults_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/loadgen"
	"github.com/storemirror/storemirror/store/storetest"
)

// The database stopped for 10 s under load: meanwhile every delivery is answered 503 (the
// provider retries) and /readyz says not ready; within 5 s of the database's return the daemon
// answers 2xx again, without a restart; and nothing is lost: every delivery answered 2xx, and
// every one retried after a 503, is stored and applied exactly once.
func TestDatabaseStoppedUnderLoad(t *testing.T) {
	t.Parallel()
	const products = 40
	srv := storetest.NewServer(t)
	p := newPlan("down-", func(i int) int { return i%products + 1 })
	d := mustStart(t, stickyConfig(srv.URL, ""))

	stopLoad := background(t, loadgen.Options{
		Targets: []string{d.URL}, Concurrency: 8, Next: p.next, PauseAfterFailure: 100 * time.Millisecond,
	})
	time.Sleep(2 * time.Second)
	srv.Stop(t)
	stopped := time.Now()
	time.Sleep(5 * time.Second)
	readyDuring := d.Ready()
	time.Sleep(time.Until(stopped.Add(10 * time.Second)))
	restarting := time.Now()
	srv.Start(t)
	back := time.Now()
	time.Sleep(6 * time.Second)
	results := stopLoad()

	if readyDuring {
		t.Error("/readyz answered 200 with the database stopped")
	}
	if !d.Ready() {
		t.Error("/readyz does not answer 200 after the database came back")
	}
	checkOutage(t, results, stopped, restarting, back)
	l := newLedger()
	l.add(results)
	l.redeliver(t, []string{d.URL}, p.next)
	db := openDB(t, srv.URL)
	waitApplied(t, db, 30*time.Second)
	checkAppliedOnce(t, db, l)
	checkMirror(t, db, l, p)
}

// checkOutage checks the answers around an outage from stopped (the server is down) to
// restarting (it is being started; back: it is up): 2xx before, only 503 while it is down,
// 2xx again within 5 s of its return and from then on.
func checkOutage(t *testing.T, results []loadgen.Result, stopped, restarting, back time.Time) {
	t.Helper()
	var during, before int
	firstOK := time.Time{}
	for _, r := range results {
		switch {
		case r.Done.Before(stopped):
			if r.OK() {
				before++
			}
		case r.Start.After(stopped) && r.Done.Before(restarting):
			during++
			if r.Status != http.StatusServiceUnavailable {
				t.Errorf("delivery %s with the database stopped: status %d (%v), want 503", r.ID, r.Status, r.Err)
			}
		case r.Start.After(back):
			if r.OK() && firstOK.IsZero() {
				firstOK = r.Done
			}
			if !r.OK() && r.Start.After(back.Add(5*time.Second)) {
				t.Errorf("delivery %s %v after the database came back: status %d (%v), want 2xx",
					r.ID, r.Start.Sub(back).Round(time.Millisecond), r.Status, r.Err)
			}
		}
	}
	if before == 0 || during == 0 {
		t.Fatalf("%d deliveries stored before the outage, %d made during it: the test did not load the daemon", before, during)
	}
	if firstOK.IsZero() {
		t.Fatal("no delivery answered 2xx after the database came back")
	}
	if took := firstOK.Sub(back); took > 5*time.Second {
		t.Errorf("first 2xx %v after the database came back, want within 5 s", took)
	}
	t.Logf("%d deliveries before the outage, %d answered 503 during it; 2xx again %v after the database's return",
		before, during, firstOK.Sub(back).Round(time.Millisecond))
}
