package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	svix "github.com/svix/svix-webhooks/go"
	"go.yaml.in/yaml/v3"
)

// What the repository ships for monitoring, relative to this package.
var (
	alertRulesFile = filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml")
	alertTestFiles = []string{"alerts_test.yml", "alerts_weekly_test.yml"} // beside alertRulesFile
	dashboardFile  = filepath.Join("..", "..", "deploy", "grafana", "storemirror.json")
	runbookFile    = filepath.Join("..", "..", "docs", "runbook.md")
	metricsDocFile = filepath.Join("..", "..", "docs", "operating.md") // its table lists every metric
)

const runbookURL = "https://github.com/storemirror/storemirror/blob/main/docs/runbook.md"

// promtool runs Prometheus's promtool through scripts/promtool, which fetches it when the
// machine has none, and returns its combined output.
func promtool(t *testing.T, dir string, stdin []byte, args ...string) (string, error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "promtool"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestAlertRules(t *testing.T) {
	t.Parallel()
	dir := filepath.Dir(alertRulesFile)
	if out, err := promtool(t, dir, nil, "check", "rules", filepath.Base(alertRulesFile)); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	args := append([]string{"test", "rules"}, alertTestFiles...)
	if out, err := promtool(t, dir, nil, args...); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T) ruleFile {
	t.Helper()
	b, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("%s: %v", alertRulesFile, err)
	}
	return rf
}

// TestAlertsHaveRunbookSections checks that every alert says what it is and links a section of
// docs/runbook.md that exists, and that every alert is tested.
func TestAlertsHaveRunbookSections(t *testing.T) {
	t.Parallel()
	runbook, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (.+)$`).FindAllStringSubmatch(string(runbook), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	var tests []byte
	for _, f := range alertTestFiles {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(alertRulesFile), f))
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, b...)
	}
	alerts := 0
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: want a summary and a description", r.Alert)
			}
			if got, want := r.Annotations["runbook_url"], runbookURL+"#"+githubAnchor(r.Alert); got != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, got, want)
			}
			if !anchors[githubAnchor(r.Alert)] {
				t.Errorf("%s: %s has no section \"## %s\"", r.Alert, runbookFile, r.Alert)
			}
			if !bytes.Contains(tests, []byte("alertname: "+r.Alert+"\n")) {
				t.Errorf("%s: no test in %v", r.Alert, alertTestFiles)
			}
		}
	}
	if alerts < 8 {
		t.Errorf("%d alerts in %s, want at least 8", alerts, alertRulesFile)
	}
}

// githubAnchor is the fragment GitHub gives a Markdown heading: lower case, spaces as hyphens,
// punctuation dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// dashboard is the part of a Grafana dashboard's JSON model the tests read.
type dashboard struct {
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"` // a string, or {"query": "..."}
		} `json:"list"`
	} `json:"templating"`
}

// grafanaVariable matches a dashboard variable in a query: $name or ${name}.
var grafanaVariable = regexp.MustCompile(`\$\{?(\w+)\}?`)

// dashboardExprs returns every PromQL expression of the dashboard (its panels' queries and its
// variables' label_values selectors), with Grafana's variables replaced by values PromQL parses.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	substitute := func(expr string) string {
		return grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
			switch strings.Trim(v, "${}") {
			case "__rate_interval", "__interval", "__range":
				return "5m"
			}
			return "x" // every variable stands inside a label value
		})
	}
	exprs := map[string]string{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("%s: two panels with id %d", dashboardFile, p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			exprs["panel "+p.Title+" "+target.RefID] = substitute(target.Expr)
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(string)
		if m, ok := v.Query.(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		sel := labelValues.FindStringSubmatch(q)
		if sel == nil {
			t.Errorf("variable %s: query %q, want label_values(SELECTOR, LABEL)", v.Name, q)
			continue
		}
		exprs["variable "+v.Name] = substitute(sel[1])
	}
	return exprs
}

// metricNames returns the metric name of every selector in each expression.
func metricNames(t *testing.T, exprs map[string]string) map[string][]string {
	t.Helper()
	p := parser.NewParser(parser.Options{})
	names := map[string][]string{} // name → where it is used
	for where, expr := range exprs {
		e, err := p.ParseExpr(expr)
		if err != nil {
			t.Errorf("%s: %v\n%s", where, err, expr)
			continue
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				name := vs.Name
				for _, m := range vs.LabelMatchers {
					if m.Name == model.MetricNameLabel {
						name = m.Value
					}
				}
				names[name] = append(names[name], where)
			}
			return nil
		})
	}
	return names
}

// TestMonitoringOnLiveMetrics scrapes the /metrics of the real daemon: promtool finds nothing to
// lint in it, every metric that the alert rules and the dashboard name is one it exports, and
// every storemirror metric it exports is documented.
func TestMonitoringOnLiveMetrics(t *testing.T) {
	t.Parallel()
	// Scheduled as the example configuration is, so that the schedules' gauges exist.
	d := startDaemonWith(t, daemonOptions{adminToken: e2eToken, reconcile: `{schedule: "@every 15m", full_schedule: "0 3 * * *"}`})

	// One stored and applied delivery, so that the series labelled by a request's outcome exist;
	// the daemon's start-up pass does the same for the reconciler's.
	body := `{"orderId":100200,"status":"succeeded","totalCards":1,"createdOn":"2026-04-01T08:00:00+00:00","requestId":"r-2"}`
	wh, _ := svix.NewWebhook(e2eSecret)
	now := time.Now()
	sig, _ := wh.Sign("msg_metrics", now, []byte(body))
	h := http.Header{"Svix-Id": {"msg_metrics"}, "Svix-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Svix-Signature": {sig}}
	if status, resp := d.do(t, http.MethodPost, "/webhooks/bamboo", h, body); status != http.StatusOK {
		t.Fatalf("signed webhook: %d %s", status, resp)
	}
	var scrape string
	eventually(t, "the delivery applied and the start-up pass done", func() bool {
		_, scrape = d.do(t, http.MethodGet, "/metrics", nil, "")
		return strings.Contains(scrape, `storemirror_inbox_events_total{source="bamboo",status="applied"} 1`) &&
			strings.Contains(scrape, "storemirror_reconcile_runs_total{")
	})

	if out, err := promtool(t, ".", []byte(scrape), "check", "metrics"); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	text := expfmt.NewTextParser(model.UTF8Validation)
	families, err := text.TextToMetricFamilies(strings.NewReader(scrape))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	exported := map[string]bool{
		"up": true, // Prometheus writes it for every target it scrapes
	}
	doc, err := os.ReadFile(metricsDocFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range families {
		if strings.HasPrefix(name, "storemirror_") && !bytes.Contains(doc, []byte("`"+name+"`")) {
			t.Errorf("%s is exported but not in %s", name, metricsDocFile)
		}
		exported[name] = true
		switch f.GetType().String() {
		case "HISTOGRAM":
			exported[name+"_bucket"], exported[name+"_sum"], exported[name+"_count"] = true, true, true
		case "SUMMARY":
			exported[name+"_sum"], exported[name+"_count"] = true, true
		}
	}

	exprs := dashboardExprs(t)
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			exprs["rule "+r.Alert+r.Record] = r.Expr
			if r.Record != "" {
				exported[r.Record] = true // Prometheus records it from the daemon's metrics
			}
		}
	}
	names := metricNames(t, exprs)
	for name, where := range names {
		if !exported[name] {
			slices.Sort(where)
			where = slices.Compact(where)
			t.Errorf("%s is not a metric the daemon exports; used in %s", name, strings.Join(where, ", "))
		}
	}
	if len(names) < 10 {
		t.Errorf("only %d metric names found in the rules and the dashboard: %v", len(names), names)
	}
}
