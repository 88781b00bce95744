// Package admincli is `gateway admin`: the installation's administration
// from a shell, for what must work before anyone can log in (the first
// tenant and its admin) or when nobody can (a lost admin password). It
// opens the store the gateway would open, with the same settings.
package admincli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/config"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

// Usage is the command's help text.
const Usage = `Usage: gateway admin <command> [flags]

Administers the installation's tenants and users. The database is the one
the gateway uses, from the same settings: KEFU_MYSQL_DSN, or else the SQLite
file kefu.db in KEFU_DATA_DIR (default "data"). With KEFU_REDIS_URL set (and
the cluster's KEFU_SECRET), commands that end logins also close the open
sockets on every gateway node. The schema is migrated first, as the gateway
does at start.

Commands:
  create-tenant   create a tenant and its first admin
      --id ID            tenant id: 1 to 32 of a-z 0-9 _ -, starting with a letter or digit
      --name NAME        display name, 1 to 128 characters
      --timezone ZONE    IANA time zone, e.g. Asia/Shanghai (default UTC)
      --admin USERNAME   the admin's username: 1 to 64 of A-Z a-z 0-9 _ . @ -
      --nickname NAME    the admin's display name (default: the username)
      --password-file F  read the admin's password from file F (first line)
      --password-stdin   read the admin's password from standard input (first line)
      --platform         also make the admin a platform admin (role superadmin:
                         the tenants page of /admin/, for every tenant)
      Without a password flag a strong password is generated and printed once.
  list-tenants    list every tenant: id, name, time zone, disabled, created
  disable-tenant  --id ID: refuse the tenant's logins, end its logins and
                  close its agents' and visitors' sockets; its data stays
  enable-tenant   --id ID: let the tenant's staff and visitors in again
  reset-password  --username U [--password-file F | --password-stdin]: set a
                  user's password (generated and printed once without a
                  password flag) and end the user's logins
  help            print this text

Passwords follow the installation's rules: 8 characters to 72 bytes, a letter and a
digit, not the username, not a common password. The exit status is non-zero on
any error.

Examples:
  KEFU_MYSQL_DSN='kefu:secret@tcp(db:3306)/kefu' gateway admin create-tenant \
      --id acme --name "Acme Ltd" --timezone Asia/Shanghai --admin alice --platform
  KEFU_DATA_DIR=/var/lib/kefu gateway admin reset-password --username alice
`

// IO is the command's terminal.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// errUsage is a mistake in the command line; its message is followed by
// the usage text.
var errUsage = errors.New("usage")

// Run runs `gateway admin args...`.
func Run(ctx context.Context, args []string, getenv func(string) string, term IO) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		_, err := io.WriteString(term.Stdout, Usage)
		return err
	}
	cmd, ok := commands[args[0]]
	if !ok {
		_, _ = io.WriteString(term.Stderr, Usage)
		return fmt.Errorf("admin: unknown command %q", args[0])
	}
	fs := flag.NewFlagSet("gateway admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; the usage is the help text
	run := cmd(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("admin %s: %w (see gateway admin help)", args[0], err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("admin %s: unexpected argument %q (see gateway admin help)", args[0], fs.Arg(0))
	}
	env, err := open(ctx, getenv, term)
	if err != nil {
		return fmt.Errorf("admin %s: %w", args[0], err)
	}
	defer env.close()
	if err := run(ctx, env); err != nil {
		if errors.Is(err, errUsage) {
			return fmt.Errorf("admin %s: %w (see gateway admin help)", args[0], err)
		}
		// A rule's message says it all; its code is for API clients.
		var pe *protocol.Error
		if errors.As(err, &pe) {
			return fmt.Errorf("admin %s: %s", args[0], pe.Message)
		}
		return fmt.Errorf("admin %s: %w", args[0], err)
	}
	return nil
}

// command declares its flags on fs and returns what runs once they are
// parsed.
type command func(fs *flag.FlagSet) func(ctx context.Context, env *env) error

var commands = map[string]command{
	"create-tenant":  createTenant,
	"list-tenants":   listTenants,
	"disable-tenant": func(fs *flag.FlagSet) func(context.Context, *env) error { return setDisabled(fs, true) },
	"enable-tenant":  func(fs *flag.FlagSet) func(context.Context, *env) error { return setDisabled(fs, false) },
	"reset-password": resetPassword,
}

// env is what a command works with.
type env struct {
	IO
	store   *store.Store
	tenants tenancy.Service
	emit    *emit.Emitter // nil without a broker
	close   func()
}

// open connects to the gateway's database (and broker, when configured).
func open(ctx context.Context, getenv func(string) string, term IO) (*env, error) {
	// No flags: the store settings come from the environment, exactly as
	// the gateway reads them.
	cfg, err := config.LoadGateway(nil, getenv, term.Stderr)
	if err != nil {
		return nil, err
	}
	// Progress logs (migrations) would drown the command's own output.
	log := config.NewLogger(term.Stderr, cfg.LogFormat, max(cfg.LogLevel, slog.LevelWarn))
	st, err := store.Open(ctx, store.Config{MySQLDSN: cfg.MySQLDSN, SQLitePath: cfg.SQLitePath(), Logger: log})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	e := &env{IO: term, store: st, tenants: tenancy.Service{Store: st}, close: func() { _ = st.Close() }}
	if cfg.Cluster() {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("KEFU_REDIS_URL: %w", err)
		}
		rdb := redis.NewClient(opts)
		br := broker.NewRedis(rdb, broker.RedisOptions{Logger: log})
		e.emit = emit.New(br)
		e.tenants.Emit = e.emit
		e.close = func() { _ = br.Close(); _ = rdb.Close(); _ = st.Close() }
	}
	return e, nil
}

// password reads the password the flags name, or generates one.
type password struct {
	file  string
	stdin bool
}

func (p *password) flags(fs *flag.FlagSet) {
	fs.StringVar(&p.file, "password-file", "", "")
	fs.BoolVar(&p.stdin, "password-stdin", false, "")
}

// read returns the password for username and whether it was generated
// (to be shown); the rules check a given one.
func (p *password) read(in io.Reader, openFile func(string) ([]byte, error), username string) (string, bool, error) {
	var raw []byte
	var err error
	switch {
	case p.file != "" && p.stdin:
		return "", false, fmt.Errorf("%w: give --password-file or --password-stdin, not both", errUsage)
	case p.file != "":
		if raw, err = openFile(p.file); err != nil {
			return "", false, fmt.Errorf("read password: %w", err)
		}
	case p.stdin:
		if raw, err = io.ReadAll(io.LimitReader(in, 4096)); err != nil {
			return "", false, fmt.Errorf("read password from stdin: %w", err)
		}
	default:
		return identity.GeneratePassword(username), true, nil
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	pw := strings.TrimSuffix(line, "\r")
	if err := tenancy.ValidatePassword(pw, username); err != nil {
		return "", false, err
	}
	return pw, false, nil
}
