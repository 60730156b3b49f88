package main

import (
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/loadgen"
)

func pgbenchAt(rate float64) pgbenchRun {
	return pgbenchRun{Body: 2048, Summary: loadgen.Summary{Rate: rate, P50: time.Millisecond, P99: 5 * time.Millisecond}}
}

func ingestAt(rate float64) *daemonRun {
	return &daemonRun{Summary: loadgen.Summary{Rate: rate, P50: 3 * time.Millisecond, P99: 9 * time.Millisecond}}
}

// A round's ratio is to the pgbench runs either side of it, and a cell is the median round.
func TestRoundsRatioAndMedian(t *testing.T) {
	f := figure{Key: "ingest16", Kind: "ingest", Title: "ingest", Goal: "≥ 1.0×",
		Pgbench: []pgbenchRun{pgbenchAt(4000), pgbenchAt(6000), pgbenchAt(10000), pgbenchAt(10000)},
		Runs:    map[string][]*daemonRun{"after": {ingestAt(2500), ingestAt(2000), ingestAt(9000)}}}
	for k, want := range []float64{0.5, 0.25, 0.9} { // 2500/5000, 2000/8000, 9000/10000
		if got := f.ratio("after", k); got != want {
			t.Errorf("round %d: ratio %v, want %v", k+1, got, want)
		}
	}
	if k := f.median("after"); k != 0 {
		t.Errorf("median round %d, want 1 (ratios 0.50, 0.25, 0.90)", k+1)
	}
	if p := f.medianPgbench(); p.Summary.Rate != 6000 {
		t.Errorf("median pgbench %v/s, want 6000 (the lower middle of four)", p.Summary.Rate)
	}
	cell := medianCell(f, "after")
	if !strings.HasPrefix(cell, "**0.50×** (2,500/s") || !strings.HasSuffix(cell, "rounds 0.50×, 0.25×, 0.90×") {
		t.Errorf("cell %q", cell)
	}
	if got := pgbenchCell(f); !strings.Contains(got, "6,000/s") || !strings.Contains(got, "the median run of 4, which ranged 4,000-10,000/s") {
		t.Errorf("pgbench cell %q", got)
	}
	// Two rounds: the worse of the middle two, for throughput and for lag alike.
	f.Runs["two"] = []*daemonRun{ingestAt(2500), ingestAt(2000)}
	if k := f.median("two"); k != 1 {
		t.Errorf("median of two rounds: round %d, want 2 (the lower ratio)", k+1)
	}
	lag := figure{Kind: "lag", Runs: map[string][]*daemonRun{"after": {
		{Lag: &lagResult{P99: 300 * time.Millisecond}}, {Lag: &lagResult{P99: 200 * time.Millisecond}}}}}
	if k := lag.median("after"); k != 0 {
		t.Errorf("lag median of two rounds: round %d, want 1 (the higher p99)", k+1)
	}
}

// A round without its pgbench run after it has no ratio rather than a ratio to half the truth
// (take never reports such a figure: a guard, should it ever).
func TestRatioNeedsBothSides(t *testing.T) {
	f := figure{Kind: "ingest", Pgbench: []pgbenchRun{pgbenchAt(5000)},
		Runs: map[string][]*daemonRun{"after": {ingestAt(2500)}}}
	if got := f.ratio("after", 0); got != 0 {
		t.Errorf("ratio %v without the pgbench run after the round, want 0", got)
	}
}

// End to end is measured by deliveries applied per second, not answered.
func TestEndToEndRatioIsApplied(t *testing.T) {
	f := figure{Kind: "e2e", Pgbench: []pgbenchRun{pgbenchAt(8000), pgbenchAt(8000)},
		Runs: map[string][]*daemonRun{"after": {{Summary: loadgen.Summary{Rate: 3000}, Rate: 2000}}}}
	if got := f.ratio("after", 0); got != 0.25 {
		t.Errorf("ratio %v, want 0.25 (2,000 applied/s over 8,000/s)", got)
	}
	if cell := medianCell(f, "after"); !strings.HasPrefix(cell, "**0.25×** (2,000/s; posting 3,000/s") {
		t.Errorf("cell %q", cell)
	}
}
