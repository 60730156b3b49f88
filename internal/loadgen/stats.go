package loadgen

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary is what a run's answers say, over a measurement window.
type Summary struct {
	Window   time.Duration
	OK       int         // 2xx answers that arrived in the window
	Failed   map[int]int // other answers in the window, by status (0: no answer)
	Rate     float64     // OK per second
	P50, P99 time.Duration
	Max      time.Duration
}

// Summarize counts the answers that arrived in [from, to) and the latency of the 2xx ones.
func Summarize(results []Result, from, to time.Time) Summary {
	s := Summary{Window: to.Sub(from), Failed: map[int]int{}}
	var lat []time.Duration
	for _, r := range results {
		if r.Done.Before(from) || !r.Done.Before(to) {
			continue
		}
		if !r.OK() {
			s.Failed[r.Status]++
			continue
		}
		s.OK++
		lat = append(lat, r.Latency())
	}
	if s.Window > 0 {
		s.Rate = float64(s.OK) / s.Window.Seconds()
	}
	s.P50, s.P99, s.Max = Percentile(lat, 0.50), Percentile(lat, 0.99), Percentile(lat, 1)
	return s
}

// Percentile returns the q-quantile (0..1) of ds by the nearest-rank method (0 when empty).
// It sorts ds.
func Percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// FailedString renders the non-2xx answers, e.g. "503×12, no answer×1" ("none" when there were none).
func (s Summary) FailedString() string {
	if len(s.Failed) == 0 {
		return "none"
	}
	statuses := make([]int, 0, len(s.Failed))
	for st := range s.Failed {
		statuses = append(statuses, st)
	}
	slices.Sort(statuses)
	out := ""
	for i, st := range statuses {
		if i > 0 {
			out += ", "
		}
		name := fmt.Sprint(st)
		if st == 0 {
			name = "no answer"
		}
		out += fmt.Sprintf("%s×%d", name, s.Failed[st])
	}
	return out
}
