package store

import (
	"testing"
	"time"
)

func TestAgentLogins(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for _, tk := range []Token{
			{Hash: "h-old", AgentID: "a1", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(time.Hour), IP: "10.0.0.1", UserAgent: "Firefox"},
			{Hash: "h-new", AgentID: "a1", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour), IP: "10.0.0.2", UserAgent: "Chrome"},
			{Hash: "h-expired", AgentID: "a1", CreatedAt: now.Add(-3 * time.Hour), ExpiresAt: now},
			{Hash: "h-other", AgentID: "a2", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		} {
			if err := s.CreateToken(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		ts, err := s.AgentLogins(ctx, "a1", now)
		if err != nil || len(ts) != 2 || ts[0].Hash != "h-new" || ts[1].Hash != "h-old" {
			t.Fatalf("AgentLogins = %+v (%v)", ts, err)
		}
		if ts[0].IP != "10.0.0.2" || ts[0].UserAgent != "Chrome" || !ts[0].CreatedAt.Equal(now.Add(-time.Hour)) {
			t.Errorf("login fields: %+v", ts[0])
		}
	})
}
