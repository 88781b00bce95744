package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// Every store test runs once per backend: SQLite always, MySQL/MariaDB when
// KEFU_TEST_MYSQL_DSN names a server (DSN without a database name, e.g.
// "root@tcp(127.0.0.1:3306)/"). Each test gets a database of its own.

const (
	envMySQLDSN       = "KEFU_TEST_MYSQL_DSN"
	envRequireServers = "KEFU_TEST_REQUIRE_SERVERS"
)

// testDB is one test's private database.
type testDB struct {
	cfg Config
}

// open returns a new Store (its own connection pool, as a separate process
// would have) on the test's database, closed when the test ends.
func (d *testDB) open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), d.cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// migrated opens a Store and migrates the database.
func (d *testDB) migrated(t *testing.T) *Store {
	t.Helper()
	s := d.open(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// eachBackend runs fn as a parallel subtest per available backend.
func eachBackend(t *testing.T, fn func(t *testing.T, d *testDB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, &testDB{cfg: Config{
			SQLitePath: filepath.Join(t.TempDir(), "data", "kefu.db"),
			Logger:     testLogger(t),
		}})
	})
	t.Run("mysql", func(t *testing.T) {
		t.Parallel()
		fn(t, newMySQLDB(t))
	})
}

// eachStore is eachBackend for tests that need one migrated Store.
func eachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	eachBackend(t, func(t *testing.T, d *testDB) { fn(t, d.migrated(t)) })
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newMySQLDB(t *testing.T) *testDB {
	t.Helper()
	server := os.Getenv(envMySQLDSN)
	if server == "" {
		if os.Getenv(envRequireServers) == "1" {
			t.Fatalf("%s is not set and %s=1", envMySQLDSN, envRequireServers)
		}
		t.Skipf("%s not set", envMySQLDSN)
	}
	mc, err := mysqldrv.ParseDSN(server)
	if err != nil {
		t.Fatalf("parse %s: %v", envMySQLDSN, err)
	}
	mc.DBName = ""
	admin, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	name := "kefu_test_" + NewID()[:16]
	// latin1 on purpose: the schema must not depend on the server's default
	// charset (MariaDB's is still latin1).
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name+" CHARACTER SET latin1"); err != nil {
		_ = admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is cancelled by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	mc.DBName = name
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	// MySQL 8's default strictness (MariaDB's default is laxer): zero dates
	// and loose GROUP BY must fail here as they would in production.
	mc.Params["sql_mode"] = "'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,ONLY_FULL_GROUP_BY,NO_ENGINE_SUBSTITUTION'"
	return &testDB{cfg: Config{MySQLDSN: mc.FormatDSN(), Logger: testLogger(t)}}
}

// parallel runs fn(i) for i in [0, n) on n goroutines released together, so
// they really contend, and waits for all of them.
func parallel(n int, fn func(i int)) {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID() = %q, want 32 lowercase hex chars", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestClampLimit(t *testing.T) {
	for in, want := range map[int]int{-5: 50, 0: 50, 1: 1, 50: 50, 200: 200, 201: 200, 1 << 30: 200} {
		if got := clampLimit(in); got != want {
			t.Errorf("clampLimit(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestNormalizeMySQLDSN(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	got, err := normalizeMySQLDSN("u:p@tcp(db:3306)/kefu?timeout=5s", log)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := mysqldrv.ParseDSN(got)
	if err != nil {
		t.Fatalf("normalized DSN %q does not parse: %v", got, err)
	}
	if mc.DBName != "kefu" || !mc.ParseTime || mc.Loc != time.UTC || !mc.ClientFoundRows || mc.Collation != "utf8mb4_unicode_ci" ||
		!mc.InterpolateParams || mc.Timeout != 5*time.Second {
		t.Errorf("normalized DSN %q: parseTime=%v loc=%v clientFoundRows=%v collation=%q interpolateParams=%v timeout=%v",
			got, mc.ParseTime, mc.Loc, mc.ClientFoundRows, mc.Collation, mc.InterpolateParams, mc.Timeout)
	}

	// An explicit utf8mb4 charset is kept as is, not overridden.
	got, err = normalizeMySQLDSN("u@tcp(db)/kefu?charset=utf8mb4&parseTime=false&loc=Local", log)
	if err != nil {
		t.Fatal(err)
	}
	mc, _ = mysqldrv.ParseDSN(got)
	if mc.Params["charset"] != "utf8mb4" || !mc.ParseTime || mc.Loc != time.UTC {
		t.Errorf("normalized DSN %q: charset=%q parseTime=%v loc=%v", got, mc.Params["charset"], mc.ParseTime, mc.Loc)
	}

	// With another charset, interpolation stays off: it is unsafe for some.
	got, err = normalizeMySQLDSN("u@tcp(db)/kefu?charset=gbk", log)
	if err != nil {
		t.Fatal(err)
	}
	if mc, _ = mysqldrv.ParseDSN(got); mc.InterpolateParams || mc.Params["charset"] != "gbk" {
		t.Errorf("normalized DSN %q: interpolateParams=%v charset=%q", got, mc.InterpolateParams, mc.Params["charset"])
	}

	if _, err := normalizeMySQLDSN("u@tcp(db)/", log); err == nil {
		t.Error("DSN without database name accepted")
	}
}

func TestOpenRequiresABackend(t *testing.T) {
	if _, err := Open(t.Context(), Config{}); err == nil {
		t.Fatal("Open with empty Config succeeded")
	}
}

func TestOpenSQLiteCreatesDirectoryAndPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "kefu.db")
	d := &testDB{cfg: Config{SQLitePath: path, Logger: testLogger(t)}}
	s := d.open(t)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	var mode string
	if err := s.db.Raw("PRAGMA journal_mode").Row().Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	var fk, busy int
	if err := s.db.Raw("PRAGMA foreign_keys").Row().Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d (%v), want 1", fk, err)
	}
	if err := s.db.Raw("PRAGMA busy_timeout").Row().Scan(&busy); err != nil || busy != int(sqliteBusyTimeout.Milliseconds()) {
		t.Errorf("busy_timeout = %d (%v), want %d", busy, err, sqliteBusyTimeout.Milliseconds())
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, d *testDB) {
		stores := make([]*Store, 4)
		for i := range stores {
			stores[i] = d.open(t)
		}
		errs := make([]error, len(stores))
		parallel(len(stores), func(i int) { errs[i] = stores[i].Migrate(t.Context()) })
		for i, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Migrate #%d: %v", i, err)
			}
		}
		// Again, on every store: nothing left to do, nothing fails.
		for i, s := range stores {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("repeated Migrate #%d: %v", i, err)
			}
		}

		var versions []int
		if err := stores[0].db.Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&versions).Error; err != nil {
			t.Fatal(err)
		}
		if len(versions) != len(migrations) {
			t.Fatalf("schema_migrations versions = %v, want %d rows", versions, len(migrations))
		}
		for i, m := range migrations {
			if versions[i] != m.version {
				t.Errorf("schema_migrations[%d] = %d, want %d", i, versions[i], m.version)
			}
		}
		var name string
		var applied time.Time
		if err := stores[0].db.Raw("SELECT name, applied_at FROM schema_migrations WHERE version = 1").Row().Scan(&name, &applied); err != nil {
			t.Fatal(err)
		}
		if name != migrations[0].name || applied.IsZero() {
			t.Errorf("migration 1 recorded as %q at %v", name, applied)
		}
	})
}

// TestSchemaMatchesModels catches a model change without a migration: the
// migrated schema must have every table, column and index models.go
// declares.
func TestSchemaMatchesModels(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		m := s.db.Migrator()
		for _, model := range []any{
			&Tenant{}, &Site{}, &Agent{}, &SkillGroup{}, &AgentSkill{}, &Token{},
			&Visitor{}, &Session{}, &Message{}, &AgentState{}, &Setting{}, &AgentStatusLog{}, &SessionConfig{}, &RoutingFence{},
			&Attachment{}, &LeaveMessage{}, &VisitorTrace{}, &Blacklist{},
			&ReadState{}, &Tag{}, &SessionTag{}, &CannedReply{}, &IMMessage{}, &IMGroup{}, &IMMember{}, &IMRead{},
			&Role{}, &SessionEvent{}, &SessionNote{}, &MonitorSample{}, &ArchiveTerm{}, &QualityItem{}, &QualityReview{},
			&VisitorTag{}, &CannedCategory{}, &LoginThrottle{}, &AuditEntry{}, &InviteRecord{},
			&Contact{}, &ContactValue{}, &ContactAttribute{},
		} {
			stmt := s.db.Model(model).Statement
			if err := stmt.Parse(model); err != nil {
				t.Fatal(err)
			}
			sch := stmt.Schema
			if !m.HasTable(model) {
				t.Errorf("table %s missing", sch.Table)
				continue
			}
			for _, f := range sch.Fields {
				if f.DBName != "" && !m.HasColumn(model, f.DBName) {
					t.Errorf("column %s.%s missing", sch.Table, f.DBName)
				}
			}
			for _, idx := range sch.ParseIndexes() {
				if !m.HasIndex(model, idx.Name) {
					t.Errorf("index %s on %s missing", idx.Name, sch.Table)
				}
			}
		}
	})
}

func TestMySQLTablesAreUTF8MB4(t *testing.T) {
	eachBackend(t, func(t *testing.T, d *testDB) {
		s := d.migrated(t)
		if !s.mysql {
			t.Skip("MySQL only")
		}
		var bad []string
		err := s.db.Raw(`SELECT table_name FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_collation NOT LIKE 'utf8mb4%'`).Scan(&bad).Error
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) > 0 {
			t.Errorf("tables not utf8mb4: %v", bad)
		}
	})
}

func TestNotFoundErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		checks := map[string]error{}
		_, checks["GetTenant"] = s.GetTenant(ctx, "nope")
		_, checks["GetSite"] = s.GetSite(ctx, "nope")
		_, checks["GetAgent"] = s.GetAgent(ctx, "nope")
		_, checks["GetAgentByUsername"] = s.GetAgentByUsername(ctx, "nope")
		_, checks["GetToken"] = s.GetToken(ctx, "nope")
		checks["ExtendToken"] = s.ExtendToken(ctx, "nope", time.Now())
		_, checks["GetVisitor"] = s.GetVisitor(ctx, "nope", "nope")
		_, checks["GetSession"] = s.GetSession(ctx, "nope")
		_, checks["OpenSession"] = s.OpenSession(ctx, "nope", "nope")
		_, _, checks["EndSession"] = s.EndSession(ctx, "nope", "agent", time.Now())
		_, _, checks["AppendMessage"] = s.AppendMessage(ctx, &Message{SessionID: "nope", ClientID: "c1"})
		_, checks["GetMessage"] = s.GetMessage(ctx, "nope")
		_, checks["ListVisitorMessages"] = s.ListVisitorMessages(ctx, "nope", "nope", "nope", 10)
		checks["UpdateSite"] = s.UpdateSite(ctx, &Site{AppID: "nope"})
		checks["UpdateAgent"] = s.UpdateAgent(ctx, &Agent{ID: "nope"}, nil)
		for name, err := range checks {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s on a missing row: err = %v, want ErrNotFound", name, err)
			}
		}
	})
}
