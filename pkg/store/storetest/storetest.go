// Package storetest gives other packages' tests a real, migrated store: an
// SQLite file in the test's temporary directory. Only tests import it.
package storetest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

// SQLite opens and migrates a fresh store, closed when the test ends.
func SQLite(t testing.TB) *store.Store { return SQLiteAt(t, nil) }

// SQLiteAt is SQLite with the store's clock (nil: the wall clock).
func SQLiteAt(t testing.TB, clock func() time.Time) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(t.TempDir(), "kefu.db"), Logger: slog.New(slog.DiscardHandler), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
