package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// One-call forms of the routing writes, for tests written against them.

func (s *Store) AssignSession(ctx context.Context, id, agentNo string, at time.Time) (bool, error) {
	var ok bool
	err := s.Routing(ctx, 0, func(t *RoutingTx) error {
		done, err := t.AssignSessions([]Assignment{{SessionID: id, AgentNo: agentNo}}, at)
		ok = done[id]
		return err
	})
	return ok, err
}

func (s *Store) SaveAgentState(ctx context.Context, st AgentState) error {
	return s.Routing(ctx, 0, func(t *RoutingTx) error { return t.SaveAgentStates([]AgentState{st}) })
}

func (s *Store) RequeueAgentSessions(ctx context.Context, agentNo string) (moved []Session, err error) {
	err = s.Routing(ctx, 0, func(t *RoutingTx) error {
		moved, err = t.RequeueAgentSessions(agentNo)
		return err
	})
	return moved, err
}

func (s *Store) AppendAgentStatusLog(ctx context.Context, l AgentStatusLog) error {
	return s.Routing(ctx, 0, func(t *RoutingTx) error { return t.AppendAgentStatusLogs([]AgentStatusLog{l}) })
}

func TestFenceRefusesAnOlderLeader(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		write := func(token int64) error {
			return s.Routing(ctx, token, func(tx *RoutingTx) error {
				return tx.SaveAgentStates([]AgentState{{AgentID: "a", Orgi: "o", Status: "ready"}})
			})
		}
		for _, tok := range []int64{3, 3, 5} { // first write creates the fence; the same token may write again
			if err := write(tok); err != nil {
				t.Fatalf("token %d: %v", tok, err)
			}
		}
		if err := write(4); !errors.Is(err, ErrFenced) {
			t.Fatalf("token 4 after 5: err = %v, want ErrFenced", err)
		}
		if err := write(0); err != nil {
			t.Fatalf("unfenced write: %v", err)
		}
	})
}

func TestAssignSessionsSkipsWhatIsNoLongerQueued(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		a, b, gone := newQueued(t, s, "u1"), newQueued(t, s, "u2"), newQueued(t, s, "u3")
		if _, _, err := s.EndSession(ctx, gone.ID, "user", time.Now()); err != nil {
			t.Fatal(err)
		}
		var done map[string]bool
		err := s.Routing(ctx, 0, func(tx *RoutingTx) (err error) {
			done, err = tx.AssignSessions([]Assignment{{a.ID, "x"}, {b.ID, "y"}, {gone.ID, "x"}}, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !done[a.ID] || !done[b.ID] || done[gone.ID] {
			t.Fatalf("assigned: %v", done)
		}
		for id, want := range map[string]string{a.ID: "x", b.ID: "y"} {
			got, err := s.GetSession(ctx, id)
			if err != nil || got.AgentNo != want || got.Status != "inservice" {
				t.Fatalf("session %s: %+v %v", id, got, err)
			}
		}
	})
}

func newQueued(t *testing.T, s *Store, userid string) Session {
	t.Helper()
	sess := Session{Orgi: "o", AppID: "app", UserID: userid, Status: "inquene"}
	if err := s.CreateSession(t.Context(), &sess); err != nil {
		t.Fatal(err)
	}
	return sess
}
