package main

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/storemirror/storemirror/internal/kinds"
	"github.com/storemirror/storemirror/provider"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Config is storemirror's configuration, as config.example.yaml documents it.
type Config struct {
	Database        DatabaseConfig `yaml:"database"`
	HTTP            HTTPConfig     `yaml:"http"`
	ShutdownTimeout Duration       `yaml:"shutdown_timeout"`
	Admin           AdminConfig    `yaml:"admin"`
	Log             LogConfig      `yaml:"log"`
	Inbox           InboxConfig    `yaml:"inbox"`
	Sources         []SourceConfig `yaml:"sources"`
}

// DatabaseConfig is the database section.
type DatabaseConfig struct {
	URL         string `yaml:"url"`
	AutoMigrate bool   `yaml:"auto_migrate"`
	MaxConns    int    `yaml:"max_conns"`
}

// HTTPConfig is the http section.
type HTTPConfig struct {
	Listen       string `yaml:"listen"`
	MaxBodyBytes int64  `yaml:"max_body_bytes"`
}

// AdminConfig is the admin section.
type AdminConfig struct {
	Token string `yaml:"token"`
}

// LogConfig is the log section.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// InboxConfig is the inbox section.
type InboxConfig struct {
	Workers     int      `yaml:"workers"`
	BatchSize   int      `yaml:"batch_size"`
	MaxAttempts int      `yaml:"max_attempts"`
	Retention   Duration `yaml:"retention"`
}

// SourceConfig is one configured source.
type SourceConfig struct {
	Name      string          `yaml:"name"`
	Kind      string          `yaml:"kind"`
	Secrets   []string        `yaml:"secrets"`
	StoreIDs  []string        `yaml:"store_ids"`
	API       *APIConfig      `yaml:"api"`
	Reconcile ReconcileConfig `yaml:"reconcile"`
}

// APIConfig is what the reconciler pulls from a source.
type APIConfig struct {
	BaseURL           string   `yaml:"base_url"`
	Username          string   `yaml:"username"`
	Password          string   `yaml:"password"`
	Token             string   `yaml:"token"`
	StoreID           string   `yaml:"store_id"`
	RequestsPerSecond float64  `yaml:"requests_per_second"`
	Timeout           Duration `yaml:"timeout"`
	PageSize          int      `yaml:"page_size"`
}

// ReconcileConfig schedules the reconciler's passes.
type ReconcileConfig struct {
	Schedule     string   `yaml:"schedule"`
	FullSchedule string   `yaml:"full_schedule"`
	Overlap      Duration `yaml:"overlap"`
}

// Enabled reports whether the source has an API to pull: an api section with a base_url (an
// api whose base_url comes from an unset variable is off).
func (s SourceConfig) Enabled() bool { return s.API != nil && s.API.BaseURL != "" }

// Duration is a time.Duration written in Go syntax (5m, 720h).
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler. Its error is a *yaml.TypeError, which lets the
// decoder go on to the other values (any other error stops it).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: not a duration (use Go syntax: 30s, 5m, 720h): %q", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// DefaultConfig returns the configuration with every default set.
func DefaultConfig() Config {
	return Config{
		Database:        DatabaseConfig{AutoMigrate: true, MaxConns: 20},
		HTTP:            HTTPConfig{Listen: "127.0.0.1:8080", MaxBodyBytes: 1 << 20},
		ShutdownTimeout: Duration(15 * time.Second),
		Log:             LogConfig{Level: "info", Format: "json"},
		Inbox:           InboxConfig{Workers: 4, BatchSize: mirrorsync.DefaultBatchSize, MaxAttempts: 10, Retention: Duration(720 * time.Hour)},
	}
}

func defaultSource(s *SourceConfig) {
	if s.API != nil {
		if s.API.RequestsPerSecond == 0 {
			s.API.RequestsPerSecond = 1
		}
		if s.API.Timeout == 0 {
			s.API.Timeout = Duration(30 * time.Second)
		}
	}
	if s.Reconcile.Overlap == 0 {
		s.Reconcile.Overlap = Duration(10 * time.Minute)
	}
}

// Problem is one thing wrong with a configuration, at a YAML path: the type the provider kinds
// report their sources' problems in.
type Problem = provider.Problem

// Problems is every problem found in a configuration.
type Problems = provider.Problems

// LoadConfig reads the configuration at path: defaults, then the file with ${VAR} expanded from
// the environment, decoded strictly (unknown keys are problems), then validated. Its problems
// come as a *ConfigError, every one of them, each with its YAML path and line.
func LoadConfig(path string, env func(string) (string, bool)) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(b, env)
	if problems, ok := errors.AsType[Problems](err); ok {
		return cfg, &ConfigError{File: path, Problems: problems}
	}
	return cfg, err
}

// ParseConfig is LoadConfig for a configuration already read; its problems are Problems.
func ParseConfig(b []byte, env func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return cfg, Problems{syntaxProblem(err)}
	}
	if len(doc.Content) == 0 {
		return cfg, Problems{{Msg: "the configuration is empty"}}
	}
	root := doc.Content[0]
	f := newConfigFile(env)
	f.expand(root, "")
	f.check(root, reflect.TypeOf(cfg), "")
	// Decode what can be: a value with a problem keeps its default, and the rest is validated.
	if err := root.Decode(&cfg); err != nil && len(f.problems) == 0 {
		f.add("", 0, "%v", err) // check should have found it first
	}
	for i := range cfg.Sources {
		defaultSource(&cfg.Sources[i])
	}
	for _, p := range cfg.Validate(f.hint) {
		if !f.faulted(p.Path) {
			f.problems = append(f.problems, p)
		}
	}
	f.locate(f.problems)
	slices.SortStableFunc(f.problems, func(a, b Problem) int { return cmp.Compare(lineOrLast(a), lineOrLast(b)) })
	return cfg, f.problems.Err()
}

// lineOrLast orders problems by line, those without one (a missing section) last.
func lineOrLast(p Problem) int {
	if p.Line == 0 {
		return math.MaxInt
	}
	return p.Line
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var sourceName = regexp.MustCompile(`^[a-z0-9-]+$`)

// Validate returns every problem in cfg, each with its YAML path. hint, when not nil, names
// the unset environment variables the values at paths refer to, for a problem to say which
// variable to set.
func (cfg Config) Validate(hint func(paths ...string) string) Problems {
	if hint == nil {
		hint = func(...string) string { return "" }
	}
	v := &validator{hint: hint}
	if cfg.Database.URL == "" {
		v.add("database.url", "required%s", v.hint("database.url"))
	} else if u, err := url.Parse(cfg.Database.URL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		v.add("database.url", "must be a postgres:// URL")
	}
	if cfg.Database.MaxConns < 2 {
		v.add("database.max_conns", "must be at least 2")
	}
	if _, _, err := net.SplitHostPort(cfg.HTTP.Listen); err != nil {
		v.add("http.listen", "must be host:port (127.0.0.1:8080)")
	}
	if cfg.HTTP.MaxBodyBytes <= 0 {
		v.add("http.max_body_bytes", "must be positive")
	}
	if cfg.ShutdownTimeout <= 0 {
		v.add("shutdown_timeout", "must be positive")
	}
	if t := cfg.Admin.Token; t != "" && len(t) < 16 {
		v.add("admin.token", "must be at least 16 characters (or empty to disable the admin API)")
	}
	if !oneOf(cfg.Log.Level, "debug", "info", "warn", "error") {
		v.add("log.level", "must be debug, info, warn or error")
	}
	if !oneOf(cfg.Log.Format, "json", "text") {
		v.add("log.format", "must be json or text")
	}
	if cfg.Inbox.Workers < 1 {
		v.add("inbox.workers", "must be at least 1")
	}
	if cfg.Inbox.BatchSize < 1 {
		v.add("inbox.batch_size", "must be at least 1")
	}
	if cfg.Inbox.MaxAttempts < 1 {
		v.add("inbox.max_attempts", "must be at least 1")
	}
	if cfg.Inbox.Retention < 0 {
		v.add("inbox.retention", "must not be negative (0 keeps events forever)")
	}
	if len(cfg.Sources) == 0 {
		v.add("sources", "at least one source is required")
	}
	names := map[string]int{}
	for i, s := range cfg.Sources {
		p := fmt.Sprintf("sources[%d]", i)
		if j, dup := names[s.Name]; dup {
			v.add(p+".name", "%q is already the name of sources[%d]", s.Name, j)
		}
		names[s.Name] = i
		v.source(p, s)
	}
	return v.problems
}

type validator struct {
	problems Problems
	hint     func(paths ...string) string
}

func (v *validator) add(path, format string, args ...any) {
	v.problems.Add(path, format, args...)
}

// faulted reports whether a problem was found at path already.
func (v *validator) faulted(path string) bool {
	return slices.ContainsFunc(v.problems, func(p Problem) bool { return p.Path == path })
}

func (v *validator) source(p string, s SourceConfig) {
	if !sourceName.MatchString(s.Name) {
		v.add(p+".name", "must match [a-z0-9-]+ (it appears in URLs and in every mirror row)")
	}
	kind, known := kinds.All.Lookup(s.Kind)
	if !known {
		v.add(p+".kind", "must be one of %s", strings.Join(kinds.All.Names(), ", "))
	}
	if len(s.Secrets) == 0 {
		v.add(p+".secrets", "at least one secret is required")
	}
	for j, secret := range s.Secrets {
		if secret == "" {
			path := fmt.Sprintf("%s.secrets[%d]", p, j)
			v.add(path, "empty%s", v.hint(path))
		}
	}
	if len(s.StoreIDs) > 0 && !kind.StoreIDs {
		v.add(p+".store_ids", "only the %s kind resolves stores", strings.Join(storeKinds(), ", "))
	}
	if s.API != nil {
		v.api(p, s, kind, known)
	}
	v.schedule(p+".reconcile.schedule", s.Reconcile.Schedule, kind, known)
	v.schedule(p+".reconcile.full_schedule", s.Reconcile.FullSchedule, kind, known)
	if s.Reconcile.Overlap < 0 {
		v.add(p+".reconcile.overlap", "must not be negative")
	}
	if known && kind.Validate != nil {
		v.kindProblems(p, kind.Validate(s.options()))
	}
}

// kindProblems adds what the source's kind found, except at paths faulted already: an empty
// secret is reported once, with the hint about unset variables.
func (v *validator) kindProblems(p string, problems Problems) {
	for _, pr := range problems {
		if path := join(p, pr.Path); !v.faulted(path) {
			v.add(path, "%s", pr.Msg)
		}
	}
}

// storeKinds names the kinds that take store_ids.
func storeKinds() []string {
	var names []string
	for _, k := range kinds.All {
		if k.StoreIDs {
			names = append(names, k.Name)
		}
	}
	return names
}

// api checks the source's api section (at p.api) against what its kind pulls.
func (v *validator) api(p string, s SourceConfig, kind provider.Kind, known bool) {
	a := s.API
	if known && kind.API == nil {
		v.add(p+".api", "the %s kind has no API to pull", s.Kind)
		return
	}
	if a.BaseURL == "" {
		return // off (e.g. its variable is unset)
	}
	if u, err := url.Parse(a.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(p+".api.base_url", "must be an http(s) URL")
	}
	if kind.API != nil {
		credentials := credentialPaths(p, kind.API.Auth)
		for _, pr := range kind.API.Auth.Check(s.Kind, s.options().API.Client) {
			v.add(join(p, pr.Path), "%s%s", pr.Msg, v.hint(credentials...)) // each is a missing credential
		}
	}
	if a.RequestsPerSecond <= 0 {
		v.add(p+".api.requests_per_second", "must be positive")
	}
	if a.Timeout <= 0 {
		v.add(p+".api.timeout", "must be positive")
	}
	if a.PageSize < 0 {
		v.add(p+".api.page_size", "must not be negative (0: the provider's default)")
	}
}

// credentialPaths are the keys of source p's api section that the scheme takes its
// credentials from.
func credentialPaths(p string, a provider.Auth) []string {
	keys := map[provider.Auth][]string{
		provider.Basic: {"username", "password"}, provider.Bearer: {"token"}, provider.TokenAsUsername: {"username"},
	}[a]
	paths := make([]string, len(keys))
	for i, k := range keys {
		paths[i] = p + ".api." + k
	}
	return paths
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (v *validator) schedule(p, spec string, kind provider.Kind, known bool) {
	if spec == "" {
		return
	}
	if known && kind.API == nil {
		v.add(p, "the %s kind has nothing to reconcile", kind.Name)
		return
	}
	if _, err := cronParser.Parse(spec); err != nil {
		v.add(p, "not a cron schedule: %v", err)
	}
}

func oneOf(s string, options ...string) bool { return slices.Contains(options, s) }
