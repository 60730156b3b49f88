package webhooks

import (
	_ "embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

var (
	//go:embed page/status.html
	pageHTML string
	//go:embed page/status.css
	pageCSS string

	pageTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
		"thousands": func(n any) string { return thousands(asInt64(n)) },
		"plural":    func(n any, one, many string) string { return plural(asInt64(n), one, many) },
		"utc":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).Parse(pageHTML))
)

// Thresholds of a source's health on the page.
const (
	stalePending = 5 * time.Minute // an older pending event means the workers are behind
	refreshEvery = 10              // seconds between the page's reloads
)

// page is what the status page template renders.
type page struct {
	Version   string
	Generated time.Time
	Now       time.Time
	Refresh   int
	FormToken string
	Flash     string
	CSS       template.CSS
	Sources   []sourceView
	Totals    mirrorsync.EventCounts
	Attention int // sources that need a look
}

// sourceView is one source's panel.
type sourceView struct {
	mirrorsync.SourceStatus
	Health      string // ok, warn or bad: the panel's colour
	HealthText  string
	LastWebhook string // how long ago, or "never"
	OldestAge   string // the oldest pending event's age, or ""
	Entities    []entityView
	Chart       chart
	Failed      []failedView
}

// entityView is one reconciled entity: its latest runs, and the pass in progress.
type entityView struct {
	Entity      string
	Last        *mirrorsync.Run
	Active      *mirrorsync.Run // the pass running now, if any
	Waiting     int             // passes queued behind it
	Progress    int             // percent of the rows expected (from the last succeeded pass of its mode); -1 unknown
	Rate        string          // rows per second of the active pass
	LastSuccess string          // how long ago, or ""
	NextRun     string          // in how long, or ""
	Repairs     int
}

// failedView is a failed event in a source's list.
type failedView struct {
	mirrorsync.EventSummary
	Ago    string
	Reason string
}

func newPage(st mirrorsync.Status, now time.Time, formToken string) page {
	p := page{Version: st.Version, Generated: now, Now: now, Refresh: refreshEvery, FormToken: formToken, CSS: template.CSS(pageCSS)}
	for _, s := range st.Sources {
		v := newSourceView(s, now)
		if v.Health != "ok" {
			p.Attention++
		}
		p.Totals.Pending += s.Events.Pending
		p.Totals.Applied += s.Events.Applied
		p.Totals.Ignored += s.Events.Ignored
		p.Totals.Failed += s.Events.Failed
		p.Sources = append(p.Sources, v)
	}
	return p
}

func newSourceView(s mirrorsync.SourceStatus, now time.Time) sourceView {
	v := sourceView{SourceStatus: s, Health: "ok", HealthText: "healthy", LastWebhook: "never", Chart: newChart(s.RepairsByDay)}
	if s.LastWebhookAt != nil {
		v.LastWebhook = ago(*s.LastWebhookAt, now) + " ago"
	}
	if s.OldestPendingAt != nil {
		v.OldestAge = ago(*s.OldestPendingAt, now)
	}
	for _, ev := range s.LatestFailed {
		f := failedView{EventSummary: ev, Ago: ago(ev.ReceivedAt, now)}
		if ev.LastError != nil {
			f.Reason = *ev.LastError
		}
		v.Failed = append(v.Failed, f)
	}
	var problems []string
	for _, e := range s.Entities {
		ev := newEntityView(e, now)
		if ev.Last != nil && ev.Last.Status == mirrorsync.RunFailed {
			v.Health = "bad"
			problems = append(problems, e.Entity+" pass failed")
		}
		v.Entities = append(v.Entities, ev)
	}
	if s.Events.Failed > 0 {
		problems = append(problems, plural(s.Events.Failed, "failed event", "failed events"))
	}
	if s.OldestPendingAt != nil && now.Sub(*s.OldestPendingAt) > stalePending {
		problems = append(problems, "workers behind")
	}
	if len(problems) > 0 {
		if v.Health == "ok" {
			v.Health = "warn"
		}
		v.HealthText = strings.Join(problems, ", ")
	}
	return v
}

func newEntityView(e mirrorsync.EntityStatus, now time.Time) entityView {
	v := entityView{Entity: e.Entity, Progress: -1}
	for i := range e.RecentRuns {
		r := &e.RecentRuns[i]
		switch {
		case r.Status == mirrorsync.RunRunning && v.Active == nil:
			v.Active = r
		case r.Status == mirrorsync.RunQueued:
			v.Waiting++
		case r.Finished() && v.Last == nil:
			v.Last = r
		}
	}
	if v.Last != nil {
		v.Repairs = v.Last.Repairs()
	}
	if a := v.Active; a != nil {
		if want := e.ExpectedRows[a.Mode]; want > 0 {
			v.Progress = min(99, a.Fetched*100/want) // an estimate: never "done" before it is
		}
		if a.StartedAt != nil {
			v.Rate = fmt.Sprintf("%.0f", float64(a.Fetched)/max(now.Sub(*a.StartedAt).Seconds(), 1))
		}
	}
	if e.LastSuccessAt != nil {
		v.LastSuccess = ago(*e.LastSuccessAt, now) + " ago"
	}
	if e.NextRunAt != nil {
		v.NextRun = "in " + shortDuration(max(e.NextRunAt.Sub(now), 0))
	}
	return v
}

// chart is the inline SVG bar chart of a source's repairs (and backfills) per day.
type chart struct {
	Width, Height float64
	Bars          []chartBar
	Max           int64 // the most repairs in a day
	First, Last   string
	Total         int64
}

type chartBar struct {
	X, W                 float64
	RepairY, RepairH     float64
	BackfillY, BackfillH float64
	Title                string
}

// The chart's size in SVG units: it is stretched to the panel's width.
const chartWidth, chartHeight = 280.0, 40.0

// newChart draws a bar a day, scaled to the most repairs of a day: a backfill (one-off, and
// often thousands of rows) is stacked on top, cut at the chart's height, so that it never
// flattens the repairs.
func newChart(days []mirrorsync.DayRepairs) chart {
	c := chart{Width: chartWidth, Height: chartHeight}
	if len(days) == 0 {
		return c
	}
	scale := int64(0)
	for _, d := range days {
		c.Max = max(c.Max, d.Repairs)
		c.Total += d.Repairs
		scale = max(scale, d.Repairs)
	}
	if scale == 0 {
		for _, d := range days {
			scale = max(scale, d.Backfilled)
		}
	}
	slot := chartWidth / float64(len(days))
	for i, d := range days {
		b := chartBar{X: float64(i)*slot + 1, W: slot - 2, RepairY: chartHeight,
			Title: fmt.Sprintf("%s: %s, %s, %s (%d failed)", d.Day, plural(d.Repairs, "repair", "repairs"),
				plural(d.Backfilled, "row backfilled", "rows backfilled"), plural(d.Runs, "pass", "passes"), d.Failed)}
		if scale > 0 {
			if d.Repairs > 0 {
				b.RepairH = max(float64(d.Repairs)*chartHeight/float64(scale), 2) // one repair stays visible
			}
			b.RepairY = chartHeight - b.RepairH
			if d.Backfilled > 0 {
				b.BackfillH = min(max(float64(d.Backfilled)*chartHeight/float64(scale), 2), b.RepairY)
			}
			b.BackfillY = b.RepairY - b.BackfillH
		}
		c.Bars = append(c.Bars, b)
	}
	c.First, c.Last = days[0].Day[5:], days[len(days)-1].Day[5:]
	return c
}

// asInt64 takes the counts templates pass: ints and int64s.
func asInt64(n any) int64 {
	switch v := n.(type) {
	case int:
		return int64(v)
	case int64:
		return v
	}
	panic(fmt.Sprintf("not a count: %T", n))
}

// plural writes n and the noun that fits it: 1 event, 3 events.
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(int64(n)) + " " + many
}
