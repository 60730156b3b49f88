package faults_test

import (
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/loadgen"
	"github.com/storemirror/storemirror/store/storetest"
)

// SIGKILL the daemon five times under load: every delivery answered 2xx is stored and applied
// exactly once, the mirror holds each product's newest delivery, and no product change is
// recorded twice. Deliveries cut off by a kill are posted again, as a provider retries them.
func TestSIGKILLUnderLoad(t *testing.T) {
	t.Parallel()
	const products = 40
	url := storetest.NewURL(t)
	db := openDB(t, url)
	cfg := stickyConfig(url, freeAddr(t))
	target := "http://" + cfg.Listen
	p := newPlan("kill-", func(i int) int { return i%products + 1 })

	stopLoad := background(t, loadgen.Options{
		Targets: []string{target}, Concurrency: 8, Next: p.next, PauseAfterFailure: 100 * time.Millisecond,
	})
	// How long each daemon lives before its SIGKILL: fixed, so the test is the same every run.
	type span struct{ up, killed time.Time }
	var lives []span
	for _, life := range []time.Duration{700, 1100, 500, 1300, 900} {
		d := mustStart(t, cfg)
		up := time.Now()
		time.Sleep(life * time.Millisecond)
		d.Kill()
		lives = append(lives, span{up, time.Now()})
	}
	last := mustStart(t, cfg)
	time.Sleep(500 * time.Millisecond)
	results := stopLoad()

	for i, l := range lives {
		s := loadgen.Summarize(results, l.up, l.killed)
		if s.OK == 0 {
			t.Errorf("daemon %d was killed without having stored anything: not under load", i+1)
		}
	}
	l := newLedger()
	l.add(results)
	l.redeliver(t, []string{target}, p.next)
	waitApplied(t, db, 30*time.Second)
	checkAppliedOnce(t, db, l)
	checkMirror(t, db, l, p)
	t.Logf("%d deliveries, %d answered 2xx before the retries", len(l.seqs), loadgen.Summarize(results, results[0].Start, time.Now()).OK)
	if err := last.Stop(20 * time.Second); err != nil {
		t.Error(err)
	}
}
