// Package config reads the settings of Kefu's processes from command-line
// flags and KEFU_* environment variables (a flag wins over its variable).
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Gateway configures a gateway node (and, in single-binary mode, the
// routing service it embeds).
type Gateway struct {
	Addr           string
	NodeID         string
	PublicURL      string
	RedisURL       string
	MySQLDSN       string
	DataDir        string
	Secret         string
	Routing        string // "embedded" or "external"
	SeedDemo       bool
	DemoPassword   string
	AllowedOrigins []string
	TrustProxy     bool
	VisitorRate    int    // identities issued per IP per minute
	GeoIPDB        string // MaxMind-format database for visitor locations; empty: none
	AgentGrace     time.Duration
	VisitorGrace   time.Duration
	DrainDelay     time.Duration
	RelayBench     bool // benchmark mode: the /relay namespace and /debug/pprof/ (gateway/relay)
	LogFormat      string
	LogLevel       slog.Level
}

// Routing configures a routing-service replica.
type Routing struct {
	Addr         string
	NodeID       string
	RedisURL     string
	MySQLDSN     string
	AgentGrace   time.Duration
	VisitorGrace time.Duration
	LeaseTTL     time.Duration
	LogFormat    string
	LogLevel     slog.Level
}

// Cluster reports whether the gateway shares state with other processes
// (Redis configured) rather than running everything in one process.
func (g Gateway) Cluster() bool { return g.RedisURL != "" }

// SQLitePath is the embedded database file used when no MySQL DSN is set.
func (g Gateway) SQLitePath() string { return filepath.Join(g.DataDir, "kefu.db") }

// option is one setting: its flag, its variable and its documentation.
type option struct {
	flag, env, def, usage string
	set                   func(string) error
}

type options []option

func (o *options) add(flagName, def, usage string, set func(string) error) {
	*o = append(*o, option{flag: flagName, env: envName(flagName), def: def, usage: usage, set: set})
}

func envName(flagName string) string {
	return "KEFU_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse applies defaults, then the environment, then flags.
func (o options) parse(name string, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, opt := range o {
		v := opt.def
		if e := getenv(opt.env); e != "" {
			v = e
		}
		if err := opt.set(v); err != nil {
			return fmt.Errorf("%s=%q: %w", opt.env, v, err)
		}
		fs.Func(opt.flag, fmt.Sprintf("%s (env %s, default %q)", opt.usage, opt.env, opt.def), opt.set)
	}
	return fs.Parse(args)
}

func str(p *string) func(string) error {
	return func(v string) error { *p = v; return nil }
}

func boolean(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*p = b
		return nil
	}
}

func integer(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*p = n
		return nil
	}
}

func duration(p *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		if d <= 0 {
			return errors.New("must be positive")
		}
		*p = d
		return nil
	}
}

// agentGraceUsage is shared by both processes, which must agree.
const agentGraceUsage = "how long an agent may have no open socket before going offline, its visitors returning to the queue (routing; the gateway uses it when it embeds routing)"

const visitorGraceUsage = "how long a visitor may have no open socket before the chat ends (a page reload does not end it); a tenant's setting wins (routing; the gateway uses it when it embeds routing)"

func level(p *slog.Level) func(string) error {
	return func(v string) error { return p.UnmarshalText([]byte(v)) }
}

func oneOf(p *string, allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				*p = v
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
}

func list(p *[]string) func(string) error {
	return func(v string) error {
		*p = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*p = append(*p, s)
			}
		}
		return nil
	}
}

var nodeIDPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

func nodeID(p *string) func(string) error {
	return func(v string) error {
		if v == "" {
			v = defaultNodeID()
		}
		if !nodeIDPattern.MatchString(v) {
			return errors.New("must match [a-z0-9-]{1,32}")
		}
		*p = v
		return nil
	}
}

// defaultNodeID derives a node id from the host name, which is unique per
// pod or machine in the deployments we target.
func defaultNodeID() string {
	h, _ := os.Hostname()
	h = strings.ToLower(h)
	var b strings.Builder
	for _, r := range h {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 32 {
		s = s[len(s)-32:]
	}
	if s == "" {
		s = "node"
	}
	return s
}

func (g *Gateway) options() options {
	var o options
	o.add("addr", ":8080", "HTTP listen address", str(&g.Addr))
	o.add("node-id", "", "node id, embedded in session ids for load-balancer stickiness; default from the host name", nodeID(&g.NodeID))
	o.add("public-url", "", "URL browsers use to reach the gateway (embed codes, printed links); default http://localhost:PORT from the listen address", str(&g.PublicURL))
	o.add("redis-url", "", "Redis URL (redis://host:port/db); empty runs single-binary mode with an in-process broker", str(&g.RedisURL))
	o.add("mysql-dsn", "", "MySQL DSN (user:pass@tcp(host:3306)/kefu); empty uses an embedded SQLite file in the data dir", str(&g.MySQLDSN))
	o.add("data-dir", "data", "directory for the embedded SQLite database", str(&g.DataDir))
	o.add("secret", "", "visitor signing secret (32+ chars), the same on every node; required with Redis, generated and kept in the database otherwise", str(&g.Secret))
	o.add("routing", "", "routing service: embedded (in this process) or external (separate replicas); default embedded without Redis, external with it", oneOf(&g.Routing, "", "embedded", "external"))
	o.add("seed-demo", "true", "create the demo tenant, site, admin and agent when missing", boolean(&g.SeedDemo))
	o.add("demo-password", "", "password of the demo users when they are created; random and printed when empty", str(&g.DemoPassword))
	o.add("allowed-origins", "", "extra origins (comma-separated) allowed to use the agent API and namespace, besides the public URL's", list(&g.AllowedOrigins))
	o.add("trust-proxy", "false", "take the client IP from X-Forwarded-For (only behind a load balancer you run)", boolean(&g.TrustProxy))
	o.add("visitor-rate", "30", "visitor identities issued per client IP per minute", integer(&g.VisitorRate))
	o.add("geoip-db", "", "MaxMind-format database file (GeoLite2-City, GeoIP2-City or -Country) giving the visitor panel a location; empty: no location", str(&g.GeoIPDB))
	o.add("agent-grace", "20s", agentGraceUsage, duration(&g.AgentGrace))
	o.add("visitor-grace", "60s", visitorGraceUsage, duration(&g.VisitorGrace))
	o.add("drain-delay", "5s", "on SIGTERM, how long /readyz fails before sockets are closed (so the load balancer stops sending new clients first); the gateway then exits within about 15 s more", duration(&g.DrainDelay))
	o.add("relay-bench", "false", "benchmark mode, never in production: adds the /relay namespace (the load generator's like-for-like relay) and serves /debug/pprof/", boolean(&g.RelayBench))
	o.add("log-format", "text", "log format: text or json", oneOf(&g.LogFormat, "text", "json"))
	o.add("log-level", "info", "log level: debug, info, warn, error", level(&g.LogLevel))
	return o
}

func (r *Routing) options() options {
	var o options
	o.add("addr", ":8090", "HTTP listen address for /healthz and /readyz", str(&r.Addr))
	o.add("node-id", "", "replica id; default from the host name", nodeID(&r.NodeID))
	o.add("redis-url", "", "Redis URL (required)", str(&r.RedisURL))
	o.add("mysql-dsn", "", "MySQL DSN (required)", str(&r.MySQLDSN))
	o.add("agent-grace", "20s", agentGraceUsage, duration(&r.AgentGrace))
	o.add("visitor-grace", "60s", visitorGraceUsage, duration(&r.VisitorGrace))
	o.add("lease-ttl", "3s", "lifetime of the active replica's lease: a standby takes over within about this after the active one dies", duration(&r.LeaseTTL))
	o.add("log-format", "text", "log format: text or json", oneOf(&r.LogFormat, "text", "json"))
	o.add("log-level", "info", "log level: debug, info, warn, error", level(&r.LogLevel))
	return o
}

// LoadGateway reads a gateway's configuration.
func LoadGateway(args []string, getenv func(string) string, stderr io.Writer) (Gateway, error) {
	var g Gateway
	if err := g.options().parse("gateway", args, getenv, stderr); err != nil {
		return g, err
	}
	if g.Routing == "" {
		g.Routing = "embedded"
		if g.Cluster() {
			g.Routing = "external"
		}
	}
	if g.Cluster() && g.Secret == "" {
		return g, errors.New("KEFU_SECRET is required when KEFU_REDIS_URL is set: every node must sign visitors alike")
	}
	if g.Cluster() && g.MySQLDSN == "" {
		return g, errors.New("KEFU_MYSQL_DSN is required when KEFU_REDIS_URL is set: nodes must share one database")
	}
	if g.VisitorRate < 1 {
		return g, errors.New("KEFU_VISITOR_RATE must be at least 1")
	}
	if g.PublicURL == "" {
		g.PublicURL = localURL(g.Addr)
	}
	g.PublicURL = strings.TrimRight(g.PublicURL, "/")
	return g, nil
}

// localURL is how a browser on this machine reaches addr.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// LoadRouting reads a routing replica's configuration.
func LoadRouting(args []string, getenv func(string) string, stderr io.Writer) (Routing, error) {
	var r Routing
	if err := r.options().parse("routing", args, getenv, stderr); err != nil {
		return r, err
	}
	if r.RedisURL == "" || r.MySQLDSN == "" {
		return r, errors.New("the routing service needs KEFU_REDIS_URL and KEFU_MYSQL_DSN (single-binary mode embeds it in the gateway instead)")
	}
	return r, nil
}

// NewLogger builds the process logger.
func NewLogger(w io.Writer, format string, lvl slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// TokenTTL is the sliding lifetime of an agent login.
const TokenTTL = 12 * time.Hour
