package store

import (
	"slices"
	"testing"
	"time"
)

func TestEndedAgentSessionsAndLastMessages(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		serve := func(user, agent string) Session {
			sess := newTestSession(t, s, "org1", "app1", user)
			if ok, err := s.AssignSession(ctx, sess.ID, agent, at); err != nil || !ok {
				t.Fatalf("assign %s: %v %v", user, ok, err)
			}
			return sess
		}
		old, recent, latest, open, other := serve("u1", "a1"), serve("u2", "a1"), serve("u3", "a1"), serve("u4", "a1"), serve("u5", "a2")
		for sess, ended := range map[string]time.Time{old.ID: at.Add(time.Hour), recent.ID: at.Add(3 * time.Hour), latest.ID: at.Add(4 * time.Hour), other.ID: at.Add(4 * time.Hour)} {
			if _, _, err := s.EndSession(ctx, sess, "agent", ended); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.EndedAgentSessions(ctx, "a1", at.Add(2*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := sessionIDs(got); !slices.Equal(ids, []string{latest.ID, recent.ID}) {
			t.Errorf("ended since 11:00 = %v, want the latest first: %v", ids, []string{latest.ID, recent.ID})
		}
		if got, _ := s.EndedAgentSessions(ctx, "a1", at.Add(2*time.Hour), 1); len(got) != 1 || got[0].ID != latest.ID {
			t.Errorf("limit 1: %v", sessionIDs(got))
		}

		appendN(t, s, recent.ID, 3)
		if _, _, err := s.AppendMessage(ctx, textMessage(open.ID, "only", "just one")); err != nil {
			t.Fatal(err)
		}
		last, err := s.LastMessages(ctx, []string{recent.ID, open.ID, latest.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(last) != 2 || last[recent.ID].Seq != 3 || last[open.ID].Body != "just one" {
			t.Errorf("last messages: %+v", last)
		}
		if _, ok := last[latest.ID]; ok {
			t.Error("a session without messages has a last message")
		}
		if last, err := s.LastMessages(ctx, nil); err != nil || len(last) != 0 {
			t.Errorf("no ids: %v %v", last, err)
		}
	})
}
