// Package storetest gives other packages' tests a real, migrated store: an
// SQLite file in the test's temporary directory. Only tests import it.
package storetest

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/kefu-im/kefu/pkg/store"
)

// SQLite opens and migrates a fresh store, closed when the test ends.
func SQLite(t testing.TB) *store.Store { return SQLiteAt(t, nil) }

// SQLiteAt is SQLite with the store's clock (nil: the wall clock).
func SQLiteAt(t testing.TB, clock func() time.Time) *store.Store {
	t.Helper()
	return open(t, store.Config{SQLitePath: filepath.Join(t.TempDir(), "kefu.db"), Clock: clock})
}

// MySQL opens and migrates a store on a fresh database of the server
// KEFU_TEST_MYSQL_DSN names, dropped when the test ends. Without that server
// the test is skipped (failed when KEFU_TEST_REQUIRE_SERVERS=1).
func MySQL(t testing.TB) *store.Store {
	t.Helper()
	return open(t, store.Config{MySQLDSN: MySQLDSN(t)})
}

// open opens and migrates a store on cfg, quiet, closed when the test ends
// (before the cleanups registered earlier, such as dropping its database).
func open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx := context.Background()
	cfg.Logger = slog.New(slog.DiscardHandler)
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// MySQLDSN creates a fresh, empty database on the server KEFU_TEST_MYSQL_DSN
// names, dropped when the test ends, and returns its DSN (for code that
// opens the store itself). It skips or fails as MySQL does.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	server := os.Getenv("KEFU_TEST_MYSQL_DSN")
	if server == "" {
		if os.Getenv("KEFU_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("KEFU_TEST_MYSQL_DSN is not set and KEFU_TEST_REQUIRE_SERVERS=1")
		}
		t.Skip("KEFU_TEST_MYSQL_DSN not set")
	}
	mc, err := mysqldrv.ParseDSN(server)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	name := "kefu_test_" + store.NewID()[:16]
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE "+name) })
	mc.DBName = name
	mc.ParseTime = true
	return mc.FormatDSN()
}
