package store

import (
	"sync"
	"testing"
	"time"
)

func TestLoginThrottles(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if rows, err := s.LoginThrottles(ctx, "user:amy"); err != nil || len(rows) != 0 {
			t.Fatalf("no counters yet: %+v (%v)", rows, err)
		}
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		until := at.Add(15 * time.Minute)
		count := func(key string, lock bool) {
			t.Helper()
			err := s.ChangeLoginThrottle(ctx, key, func(r *LoginThrottle) {
				if r.Key != key || r.FirstAt.IsZero() {
					t.Errorf("change sees %+v", r)
				}
				r.Failures++
				r.FirstAt = at
				if lock {
					r.LockedUntil = &until
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		count("user:amy", false)
		count("user:amy", true)
		count("ip:10.0.0.1", false)
		rows, err := s.LoginThrottles(ctx, "user:amy", "ip:10.0.0.1", "user:nobody")
		if err != nil || len(rows) != 2 {
			t.Fatalf("counters: %+v (%v)", rows, err)
		}
		for _, r := range rows {
			switch r.Key {
			case "user:amy":
				if r.Failures != 2 || !r.FirstAt.Equal(at) || r.LockedUntil == nil || !r.LockedUntil.Equal(until) {
					t.Errorf("amy: %+v", r)
				}
			case "ip:10.0.0.1":
				if r.Failures != 1 || r.LockedUntil != nil {
					t.Errorf("address: %+v", r)
				}
			}
		}
		if err := s.DeleteLoginThrottle(ctx, "user:amy"); err != nil {
			t.Fatal(err)
		}
		if rows, _ := s.LoginThrottles(ctx, "user:amy"); len(rows) != 0 {
			t.Fatalf("after delete: %+v", rows)
		}
	})
}

// TestConcurrentLoginFailures: gateways counting one key at once lose
// none of each other's failures.
func TestConcurrentLoginFailures(t *testing.T) {
	const n = 8
	eachBackend(t, func(t *testing.T, d *testDB) {
		d.migrated(t)
		stores := []*Store{d.open(t), d.open(t)}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := stores[i%2].ChangeLoginThrottle(t.Context(), "user:race", func(r *LoginThrottle) { r.Failures++ }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		rows, err := stores[0].LoginThrottles(t.Context(), "user:race")
		if err != nil || len(rows) != 1 || rows[0].Failures != n {
			t.Fatalf("after %d concurrent failures: %+v (%v)", n, rows, err)
		}
	})
}

func TestDeleteStaleLoginThrottles(t *testing.T) {
	eachBackend(t, func(t *testing.T, d *testDB) {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		d.cfg.Clock = func() time.Time { return now }
		s := d.migrated(t)
		ctx := t.Context()
		locked := now.Add(30 * time.Minute)
		for _, k := range []string{"old", "old-locked"} {
			if err := s.ChangeLoginThrottle(ctx, k, func(r *LoginThrottle) {
				r.Failures = 1
				if k == "old-locked" {
					r.LockedUntil = &locked
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(20 * time.Minute)
		if err := s.ChangeLoginThrottle(ctx, "recent", func(r *LoginThrottle) { r.Failures = 1 }); err != nil {
			t.Fatal(err)
		}
		n, err := s.DeleteStaleLoginThrottles(ctx, now.Add(-15*time.Minute), now)
		if err != nil || n != 1 {
			t.Fatalf("deleted %d (%v), want 1", n, err)
		}
		rows, _ := s.LoginThrottles(ctx, "old", "old-locked", "recent")
		if len(rows) != 2 {
			t.Fatalf("left: %+v", rows)
		}
	})
}
