package admincli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/redistest"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
)

// backend is one database the command runs against, named by the
// environment as an operator would name it.
type backend struct {
	env  map[string]string
	open func(t *testing.T) *store.Store // the same database, for checks
}

func sqliteBackend(t *testing.T) backend {
	dir := t.TempDir()
	return backend{
		env: map[string]string{"KEFU_DATA_DIR": dir},
		open: func(t *testing.T) *store.Store {
			return openStore(t, store.Config{SQLitePath: filepath.Join(dir, "kefu.db")})
		},
	}
}

func mysqlBackend(t *testing.T) backend {
	dsn := storetest.MySQLDSN(t)
	return backend{
		env:  map[string]string{"KEFU_MYSQL_DSN": dsn},
		open: func(t *testing.T) *store.Store { return openStore(t, store.Config{MySQLDSN: dsn}) },
	}
}

func openStore(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func eachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, sqliteBackend(t)) })
	t.Run("mysql", func(t *testing.T) { t.Parallel(); fn(t, mysqlBackend(t)) })
}

type result struct {
	stdout, stderr string
	err            error
}

// admin runs `gateway admin args...` with stdin as its standard input.
func (b backend) admin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, func(k string) string { return b.env[k] }, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	return result{out.String(), errOut.String(), err}
}

func (b backend) mustAdmin(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := b.admin(t, stdin, args...)
	if r.err != nil {
		t.Fatalf("admin %v: %v\nstderr: %s", args, r.err, r.stderr)
	}
	return r.stdout
}

func TestHelpAndUnknownCommand(t *testing.T) {
	b := backend{env: map[string]string{}}
	for _, args := range [][]string{nil, {"help"}, {"--help"}} {
		r := b.admin(t, "", args...)
		if r.err != nil || !strings.Contains(r.stdout, "create-tenant") || !strings.Contains(r.stdout, "reset-password") {
			t.Fatalf("help %v: err %v, stdout %q", args, r.err, r.stdout)
		}
	}
	r := b.admin(t, "", "frobnicate")
	if r.err == nil || !strings.Contains(r.err.Error(), `unknown command "frobnicate"`) || !strings.Contains(r.stderr, "Usage: gateway admin") {
		t.Fatalf("unknown command: err %v, stderr %q", r.err, r.stderr)
	}
	r = b.admin(t, "", "list-tenants", "--nope")
	if r.err == nil || !strings.Contains(r.err.Error(), "flag provided but not defined") {
		t.Fatalf("unknown flag: %v", r.err)
	}
}

func TestCreateTenantAndAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		out := b.mustAdmin(t, "correct horse battery 9\n", "create-tenant", "--id", "acme", "--name", " Acme Ltd ", "--timezone", "Asia/Shanghai",
			"--admin", "alice", "--nickname", "Alice", "--password-stdin", "--platform")
		if !strings.Contains(out, "Created tenant acme") || strings.Contains(out, "Password of") {
			t.Fatalf("output %q", out)
		}
		st := b.open(t)
		ctx := context.Background()
		ten, err := st.GetTenant(ctx, "acme")
		if err != nil || ten.Name != "Acme Ltd" || ten.TimeZone != "Asia/Shanghai" || ten.Disabled {
			t.Fatalf("tenant %+v %v", ten, err)
		}
		alice, err := st.GetAgentByUsername(ctx, "alice")
		if err != nil || alice.Orgi != "acme" || alice.Nickname != "Alice" || alice.Roles != protocol.RoleAdmin+","+protocol.RoleSuperAdmin {
			t.Fatalf("admin %+v %v", alice, err)
		}
		if identity.CheckPassword(alice.PasswordHash, "correct horse battery 9") != nil {
			t.Fatal("the password from stdin was not set")
		}

		// Without a password flag one is generated and printed once; a
		// password file's first line is the password.
		out = b.mustAdmin(t, "", "create-tenant", "--id", "beta_2", "--name", "Beta", "--admin", "bob")
		m := regexp.MustCompile(`Password of bob: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no generated password in %q", out)
		}
		bob, err := st.GetAgentByUsername(ctx, "bob")
		if err != nil || bob.Roles != protocol.RoleAdmin || identity.CheckPassword(bob.PasswordHash, m[1]) != nil {
			t.Fatalf("bob %+v %v, or the printed password is not his", bob, err)
		}
		if beta, _ := st.GetTenant(ctx, "beta_2"); beta.TimeZone != "UTC" {
			t.Fatalf("default time zone %q", beta.TimeZone)
		}
		file := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(file, []byte("from-a-file-123\r\nignored\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		b.mustAdmin(t, "", "create-tenant", "--id", "gamma", "--name", "Gamma", "--admin", "carol", "--password-file", file)
		if carol, _ := st.GetAgentByUsername(ctx, "carol"); identity.CheckPassword(carol.PasswordHash, "from-a-file-123") != nil {
			t.Fatal("the password file's first line was not set")
		}

		out = b.mustAdmin(t, "", "list-tenants")
		for _, want := range []string{"ID", "TIME ZONE", "acme", "Acme Ltd", "Asia/Shanghai", "beta_2", "gamma"} {
			if !strings.Contains(out, want) {
				t.Errorf("list-tenants lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestCreateTenantRefusesBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		b.mustAdmin(t, "long-enough-pw-1", "create-tenant", "--id", "taken", "--name", "Taken", "--admin", "owner", "--password-stdin")
		base := []string{"create-tenant", "--password-stdin"}
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--name", "X", "--admin", "u1"}, "--id, --name and --admin are required"},
			{[]string{"--id", "Acme!", "--name", "X", "--admin", "u1"}, "tenant id must be 1 to 32 of a-z"},
			{[]string{"--id", "-acme", "--name", "X", "--admin", "u1"}, "tenant id must be"},
			{[]string{"--id", strings.Repeat("a", 33), "--name", "X", "--admin", "u1"}, "tenant id must be"},
			{[]string{"--id", "ok", "--name", "   ", "--admin", "u1"}, "tenant name must be 1 to 128"},
			{[]string{"--id", "ok", "--name", strings.Repeat("名", 129), "--admin", "u1"}, "tenant name must be 1 to 128"},
			{[]string{"--id", "ok", "--name", "X", "--timezone", "Mars/Olympus", "--admin", "u1"}, `unknown time zone "Mars/Olympus"`},
			{[]string{"--id", "ok", "--name", "X", "--timezone", "Local", "--admin", "u1"}, "time zone is required"},
			{[]string{"--id", "ok", "--name", "X", "--admin", "bad name"}, "username must be 1 to 64"},
			{[]string{"--id", "taken", "--name", "X", "--admin", "u1"}, `tenant id "taken" is taken`},
			{[]string{"--id", "ok", "--name", "X", "--admin", "OWNER"}, `username "OWNER" is taken`},
			{[]string{"--id", "ok", "--name", "X", "--admin", "u1", "--password-file", "f"}, "not both"},
			{[]string{"--id", "ok", "--name", "X", "--admin", "u1", "stray"}, `unexpected argument "stray"`},
		} {
			r := b.admin(t, "long-enough-pw-1", append(base, c.args...)...)
			if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
				t.Errorf("%v: err %v, want %q", c.args, r.err, c.want)
			}
		}
		r := b.admin(t, "short", "create-tenant", "--id", "ok", "--name", "X", "--admin", "u1", "--password-stdin")
		if r.err == nil || !strings.Contains(r.err.Error(), "the password must be at least 8 characters") {
			t.Errorf("short password: %v", r.err)
		}
		// Nothing of the refused attempts was stored.
		st := b.open(t)
		if ts, err := st.ListTenants(context.Background()); err != nil || len(ts) != 1 {
			t.Fatalf("tenants %+v %v", ts, err)
		}
		if _, err := st.GetAgentByUsername(context.Background(), "u1"); err == nil {
			t.Fatal("a refused admin was stored")
		}
	})
}

func TestDisableEnableAndResetPassword(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		b.mustAdmin(t, "first-password-1", "create-tenant", "--id", "acme", "--name", "Acme", "--admin", "alice", "--password-stdin")
		st := b.open(t)
		ctx := context.Background()
		alice, err := st.GetAgentByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		login := func() string {
			_, hash := identity.NewToken()
			if err := st.CreateToken(ctx, store.Token{Hash: hash, AgentID: alice.ID, ExpiresAt: time.Now().Add(time.Hour), CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			return hash
		}
		token := login()

		r := b.admin(t, "", "disable-tenant", "--id", "acme")
		if r.err != nil || !strings.Contains(r.stdout, "Tenant acme (Acme) is disabled.") {
			t.Fatalf("disable: %+v", r)
		}
		// Single-process install: no broker to reach the gateway's sockets.
		if !strings.Contains(r.stderr, "warning: tenant disabled, but its open sockets were not closed") {
			t.Errorf("no warning about open sockets: %q", r.stderr)
		}
		if ten, _ := st.GetTenant(ctx, "acme"); !ten.Disabled {
			t.Fatal("tenant not disabled")
		}
		if _, err := st.GetToken(ctx, token); err == nil {
			t.Fatal("a login of the disabled tenant survived")
		}
		if out := b.mustAdmin(t, "", "enable-tenant", "--id", "acme"); !strings.Contains(out, "is enabled") {
			t.Fatalf("enable: %q", out)
		}
		if ten, _ := st.GetTenant(ctx, "acme"); ten.Disabled {
			t.Fatal("tenant still disabled")
		}
		if r := b.admin(t, "", "disable-tenant", "--id", "nope"); r.err == nil || !strings.Contains(r.err.Error(), `tenant "nope" not found`) {
			t.Fatalf("unknown tenant: %v", r.err)
		}
		if r := b.admin(t, "", "enable-tenant"); r.err == nil || !strings.Contains(r.err.Error(), "--id is required") {
			t.Fatalf("no id: %v", r.err)
		}

		token = login()
		out := b.mustAdmin(t, "", "reset-password", "--username", "ALICE")
		m := regexp.MustCompile(`New password: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no new password in %q", out)
		}
		if alice, _ = st.GetAgentByUsername(ctx, "alice"); identity.CheckPassword(alice.PasswordHash, m[1]) != nil {
			t.Fatal("the printed password is not the new one")
		}
		if _, err := st.GetToken(ctx, token); err == nil {
			t.Fatal("a login survived the password reset")
		}
		b.mustAdmin(t, "chosen-password-2\n", "reset-password", "--username", "alice", "--password-stdin")
		if alice, _ = st.GetAgentByUsername(ctx, "alice"); identity.CheckPassword(alice.PasswordHash, "chosen-password-2") != nil {
			t.Fatal("the password from stdin was not set")
		}
		if r := b.admin(t, "", "reset-password", "--username", "nobody"); r.err == nil || !strings.Contains(r.err.Error(), `no user "nobody"`) {
			t.Fatalf("unknown user: %v", r.err)
		}
		if r := b.admin(t, "2short", "reset-password", "--username", "alice", "--password-stdin"); r.err == nil || !strings.Contains(r.err.Error(), "the password must be at least 8 characters") {
			t.Fatalf("short password: %v", r.err)
		}
	})
}

// With the cluster's settings the command reaches every gateway through
// Redis: disabling publishes the `leave` and `refused` that close the
// tenant's sockets.
func TestDisableTenantInClusterPublishes(t *testing.T) {
	b := mysqlBackend(t)
	url := redistest.URL(t)
	b.env["KEFU_REDIS_URL"] = url
	b.env["KEFU_SECRET"] = strings.Repeat("s", 32)
	rdb := redistest.Client(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub := rdb.PSubscribe(ctx, "kefu:bc:*")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is confirmed
		t.Fatal(err)
	}
	id := "c" + strings.ToLower(store.NewID()[:12])
	b.mustAdmin(t, "cluster-password-3", "create-tenant", "--id", id, "--name", "Cluster", "--admin", id+"-admin", "--password-stdin")
	r := b.admin(t, "", "disable-tenant", "--id", id)
	if r.err != nil || r.stderr != "" {
		t.Fatalf("disable: %+v", r)
	}
	room := protocol.TenantRoom(id)
	var leave, refused bool
	for !leave || !refused {
		m, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("waiting for the publications (leave %v, refused %v): %v", leave, refused, err)
		}
		if !strings.Contains(m.Payload, room) {
			continue
		}
		leave = leave || strings.Contains(m.Payload, protocol.NamespaceAgent) && strings.Contains(m.Payload, protocol.EventLeave)
		refused = refused || strings.Contains(m.Payload, protocol.NamespaceUser) && strings.Contains(m.Payload, protocol.EventRefused)
	}
}
