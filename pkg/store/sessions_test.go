package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
)

func sessionIDs(ss []Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func TestCreateAndGetSession(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		created := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
		in := Session{
			Orgi: "org1", AppID: "app1", UserID: "v1", Skill: "sk", Nickname: "访客 😀", Title: "Pricing",
			URL: "https://example.com/p", IP: "203.0.113.9", LastSeq: 99, CreatedAt: created,
		}
		if err := s.CreateSession(ctx, &in); err != nil {
			t.Fatal(err)
		}
		if len(in.ID) != 32 || in.Status != protocol.SessionInQueue || in.LastSeq != 0 || in.UpdatedAt.IsZero() {
			t.Errorf("defaults not filled: id=%q status=%q last_seq=%d updated=%v", in.ID, in.Status, in.LastSeq, in.UpdatedAt)
		}
		got, err := s.GetSession(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Stored in UTC, to the millisecond, whatever zone it came in.
		wantCreated := time.Date(2026, 3, 1, 2, 0, 0, 123000000, time.UTC)
		if got.CreatedAt != wantCreated {
			t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, wantCreated)
		}
		if got.Nickname != in.Nickname || got.Title != "Pricing" || got.ServiceTime != nil || got.EndTime != nil {
			t.Errorf("GetSession = %+v", got)
		}
		if got.CreatedAt != in.CreatedAt || got.UpdatedAt != in.UpdatedAt || got.ID != in.ID {
			t.Errorf("CreateSession left %+v, stored %+v", in, got)
		}
		dup := Session{ID: in.ID, Orgi: "org1", AppID: "app1", UserID: "v1"}
		if err := s.CreateSession(ctx, &dup); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate id: %v, want ErrConflict", err)
		}
	})
}

func TestOpenSession(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		base := time.Now().Add(-time.Hour)
		mk := func(userid string, at time.Time) Session {
			sess := Session{Orgi: "org1", AppID: "app1", UserID: userid, CreatedAt: at}
			if err := s.CreateSession(ctx, &sess); err != nil {
				t.Fatal(err)
			}
			return sess
		}
		if _, err := s.OpenSession(ctx, "app1", "v1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no sessions: %v, want ErrNotFound", err)
		}
		old := mk("v1", base)
		if _, _, err := s.EndSession(ctx, old.ID, "visitor", time.Now()); err != nil {
			t.Fatal(err)
		}
		cur := mk("v1", base.Add(time.Minute))
		mk("v2", base.Add(2*time.Minute))
		got, err := s.OpenSession(ctx, "app1", "v1")
		if err != nil || got.ID != cur.ID {
			t.Fatalf("OpenSession = %s (%v), want the open %s", got.ID, err, cur.ID)
		}
		if _, _, err := s.EndSession(ctx, cur.ID, "visitor", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenSession(ctx, "app1", "v1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("all ended: %v, want ErrNotFound", err)
		}
	})
}

func TestAssignSessionOnce(t *testing.T) {
	const agents = 10
	eachBackend(t, func(t *testing.T, d *testDB) {
		s := d.migrated(t)
		stores := make([]*Store, agents)
		for i := range stores {
			stores[i] = d.open(t)
		}
		for round := range 3 {
			sess := newTestSession(t, s, "org1", "app1", fmt.Sprintf("v%d", round))
			at := time.Now()
			var (
				mu      sync.Mutex
				winners []string
			)
			parallel(agents, func(i int) {
				agent := fmt.Sprintf("agent%d", i)
				ok, err := stores[i].AssignSession(t.Context(), sess.ID, agent, at)
				if err != nil {
					t.Errorf("AssignSession by %s: %v", agent, err)
				}
				if ok {
					mu.Lock()
					winners = append(winners, agent)
					mu.Unlock()
				}
			})
			if len(winners) != 1 {
				t.Fatalf("round %d: %d winners %v, want exactly 1", round, len(winners), winners)
			}
			got, err := s.GetSession(t.Context(), sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != protocol.SessionInService || got.AgentNo != winners[0] || got.ServiceTime == nil || !got.ServiceTime.Equal(utc(at)) {
				t.Errorf("round %d: stored status=%s agentno=%s service_time=%v; want inservice by %s at %v",
					round, got.Status, got.AgentNo, got.ServiceTime, winners[0], utc(at))
			}
			// Repeating the assignment, even by the winner, changes nothing.
			if ok, err := s.AssignSession(t.Context(), sess.ID, winners[0], time.Now()); ok || err != nil {
				t.Errorf("repeat assignment: %v %v, want false, nil", ok, err)
			}
		}
	})
}

func TestEndSession(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		sess := newTestSession(t, s, "org1", "app1", "v1")
		if ok, err := s.AssignSession(ctx, sess.ID, "agent1", time.Now()); !ok || err != nil {
			t.Fatalf("assign: %v %v", ok, err)
		}
		at := time.Date(2026, 5, 1, 12, 0, 0, 987654321, time.UTC)
		got, changed, err := s.EndSession(ctx, sess.ID, "agent", at)
		if err != nil || !changed {
			t.Fatalf("EndSession: changed=%v err=%v", changed, err)
		}
		if got.Status != protocol.SessionEnd || got.EndBy != "agent" || got.EndTime == nil || !got.EndTime.Equal(utc(at)) ||
			got.AgentNo != "agent1" || got.ServiceTime == nil {
			t.Errorf("ended row = %+v", got)
		}
		again, changed, err := s.EndSession(ctx, sess.ID, "visitor", at.Add(time.Hour))
		if err != nil || changed {
			t.Fatalf("second EndSession: changed=%v err=%v, want unchanged", changed, err)
		}
		if again.EndBy != "agent" || !again.EndTime.Equal(utc(at)) {
			t.Errorf("second EndSession overwrote the end: %+v", again)
		}
		// A queued session can end too (visitor gave up waiting).
		q := newTestSession(t, s, "org1", "app1", "v2")
		if got, changed, err := s.EndSession(ctx, q.ID, "visitor", time.Now()); err != nil || !changed || got.Status != protocol.SessionEnd {
			t.Errorf("end queued session: %v %v %v", got.Status, changed, err)
		}
		// An ended session cannot be assigned any more.
		if ok, err := s.AssignSession(ctx, q.ID, "agent1", time.Now()); ok || err != nil {
			t.Errorf("assign ended session: %v %v, want false, nil", ok, err)
		}
	})
}

func TestListQueuedFIFO(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
		mk := func(orgi, id string, at time.Time) {
			sess := Session{ID: id, Orgi: orgi, AppID: "app1", UserID: "v-" + id, CreatedAt: at}
			if err := s.CreateSession(ctx, &sess); err != nil {
				t.Fatal(err)
			}
		}
		// Inserted out of order; sub-second and fractional times exercise
		// SQLite's textual time comparison; b1/b2 tie and fall back to id.
		mk("org1", "c", base.Add(1500*time.Millisecond))
		mk("org1", "b2", base.Add(time.Second))
		mk("org1", "a", base.Add(time.Second+10*time.Millisecond))
		mk("org1", "b1", base.Add(time.Second))
		mk("org1", "first", base.Add(999*time.Millisecond))
		mk("org1", "late", base.Add(10*time.Second))
		mk("org1", "taken", base)
		mk("org2", "elsewhere", base)
		if ok, err := s.AssignSession(ctx, "taken", "agent1", time.Now()); !ok || err != nil {
			t.Fatal(ok, err)
		}

		want := []string{"first", "b1", "b2", "a", "c", "late"}
		got, err := s.ListQueued(ctx, "org1", 0)
		if err != nil || !slices.Equal(sessionIDs(got), want) {
			t.Errorf("ListQueued = %v (%v), want %v", sessionIDs(got), err, want)
		}
		got, err = s.ListQueued(ctx, "org1", 2)
		if err != nil || !slices.Equal(sessionIDs(got), want[:2]) {
			t.Errorf("ListQueued limit 2 = %v (%v), want %v", sessionIDs(got), err, want[:2])
		}
		got, err = s.ListQueued(ctx, "org2", 10)
		if err != nil || !slices.Equal(sessionIDs(got), []string{"elsewhere"}) {
			t.Errorf("ListQueued org2 = %v (%v)", sessionIDs(got), err)
		}
	})
}

func TestCountInServiceAndAgentSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		assign := func(orgi, agent string) Session {
			sess := newTestSession(t, s, orgi, "app1", NewID())
			if ok, err := s.AssignSession(ctx, sess.ID, agent, time.Now()); !ok || err != nil {
				t.Fatal(ok, err)
			}
			return sess
		}
		a1 := assign("org1", "agent1")
		a2 := assign("org1", "agent1")
		assign("org1", "agent2")
		ended := assign("org1", "agent2")
		if _, _, err := s.EndSession(ctx, ended.ID, "agent", time.Now()); err != nil {
			t.Fatal(err)
		}
		ended3 := assign("org1", "agent3")
		if _, _, err := s.EndSession(ctx, ended3.ID, "agent", time.Now()); err != nil {
			t.Fatal(err)
		}
		assign("org2", "agent9")
		newTestSession(t, s, "org1", "app1", "waiting")

		counts, err := s.CountInService(ctx, "org1")
		if want := map[string]int{"agent1": 2, "agent2": 1}; err != nil || !maps.Equal(counts, want) {
			t.Errorf("CountInService = %v (%v), want %v", counts, err, want)
		}
		got, err := s.ListAgentSessions(ctx, "agent1", protocol.SessionInService)
		// Created within one clock tick, the two are ordered by random id.
		if err != nil || !slices.Equal(slices.Sorted(slices.Values(sessionIDs(got))), slices.Sorted(slices.Values([]string{a1.ID, a2.ID}))) {
			t.Errorf("agent1 in service = %v (%v)", sessionIDs(got), err)
		}
		got, err = s.ListAgentSessions(ctx, "agent2", protocol.SessionEnd)
		if err != nil || !slices.Equal(sessionIDs(got), []string{ended.ID}) {
			t.Errorf("agent2 ended = %v (%v)", sessionIDs(got), err)
		}
		got, err = s.ListAgentSessions(ctx, "agent2")
		if err != nil || len(got) != 2 {
			t.Errorf("agent2 all = %v (%v), want 2", sessionIDs(got), err)
		}
		got, err = s.ListAgentSessions(ctx, "agent2", protocol.SessionInService, protocol.SessionEnd)
		if err != nil || len(got) != 2 {
			t.Errorf("agent2 inservice+end = %v (%v), want 2", sessionIDs(got), err)
		}
		if _, err := s.ListAgentSessions(ctx, ""); err == nil {
			t.Error("empty agentNo accepted")
		}
	})
}

func TestAgentStates(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		last := time.Date(2026, 2, 3, 4, 5, 6, 789000000, time.UTC)
		for _, st := range []AgentState{
			{AgentID: "b", Orgi: "org1", Status: "ready"}, // never assigned: zero LastAssigned
			{AgentID: "a", Orgi: "org1", Status: "notready", Busy: true, LastAssigned: last},
			{AgentID: "c", Orgi: "org2", Status: "offline"},
		} {
			if err := s.SaveAgentState(ctx, st); err != nil {
				t.Fatalf("SaveAgentState(%s): %v", st.AgentID, err)
			}
		}
		got, err := s.ListAgentStates(ctx, "org1")
		if err != nil || len(got) != 2 {
			t.Fatalf("ListAgentStates = %+v (%v)", got, err)
		}
		if got[0].AgentID != "a" || !got[0].Busy || got[0].Status != "notready" || got[0].LastAssigned != last || got[0].UpdatedAt.IsZero() {
			t.Errorf("state a = %+v", got[0])
		}
		if got[1].AgentID != "b" || !got[1].LastAssigned.IsZero() {
			t.Errorf("state b = %+v, want zero LastAssigned", got[1])
		}

		// Upsert replaces every field, including back to "never assigned".
		if err := s.SaveAgentState(ctx, AgentState{AgentID: "a", Orgi: "org1", Status: "ready"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveAgentState(ctx, AgentState{AgentID: "b", Orgi: "org1", Status: "ready", LastAssigned: last}); err != nil {
			t.Fatal(err)
		}
		got, err = s.ListAgentStates(ctx, "org1")
		if err != nil || len(got) != 2 {
			t.Fatalf("ListAgentStates = %+v (%v)", got, err)
		}
		if got[0].Busy || got[0].Status != "ready" || !got[0].LastAssigned.IsZero() {
			t.Errorf("state a after update = %+v", got[0])
		}
		if got[1].LastAssigned != last {
			t.Errorf("state b after update = %+v", got[1])
		}
		all, err := s.ListAllAgentStates(ctx)
		if err != nil || len(all) != 3 || all[2].AgentID != "c" {
			t.Errorf("ListAllAgentStates = %+v (%v)", all, err)
		}
	})
}

func TestVisitors(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := s.UpsertVisitor(ctx, Visitor{AppID: "app1", UserID: "v1", Orgi: "org1", Nickname: "Guest 1", LastSeen: t0}); err != nil {
			t.Fatal(err)
		}
		v, err := s.GetVisitor(ctx, "app1", "v1")
		if err != nil || v.Nickname != "Guest 1" || v.LastSeen != t0 || v.CreatedAt.IsZero() {
			t.Fatalf("GetVisitor = %+v (%v)", v, err)
		}
		created := v.CreatedAt

		t1 := t0.Add(time.Hour)
		if err := s.UpsertVisitor(ctx, Visitor{AppID: "app1", UserID: "v1", Orgi: "org1", LastSeen: t1}); err != nil {
			t.Fatal(err)
		}
		v, _ = s.GetVisitor(ctx, "app1", "v1")
		if v.LastSeen != t1 || v.Nickname != "Guest 1" || v.CreatedAt != created {
			t.Errorf("after a sighting without nickname: %+v", v)
		}
		if err := s.UpsertVisitor(ctx, Visitor{AppID: "app1", UserID: "v1", Orgi: "org1", Nickname: "小明"}); err != nil {
			t.Fatal(err)
		}
		v, _ = s.GetVisitor(ctx, "app1", "v1")
		if v.Nickname != "小明" || !v.LastSeen.After(t1) {
			t.Errorf("after a sighting with nickname: %+v", v)
		}
		if _, err := s.GetVisitor(ctx, "app2", "v1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("same userid on another site: %v, want ErrNotFound", err)
		}
	})
}

func TestOneOpenSessionPerVisitor(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		first := &Session{Orgi: "o", AppID: "app", UserID: "u1"}
		if err := s.CreateSession(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := &Session{Orgi: "o", AppID: "app", UserID: "u1"}
		if err := s.CreateSession(ctx, second); !errors.Is(err, ErrConflict) {
			t.Fatalf("second open session: got %v, want ErrConflict", err)
		}
		if err := s.CreateSession(ctx, &Session{Orgi: "o", AppID: "other", UserID: "u1"}); err != nil {
			t.Fatalf("same userid on another site: %v", err)
		}
		if _, _, err := s.EndSession(ctx, first.ID, "agent", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, second); err != nil {
			t.Fatalf("new session after the first ended: %v", err)
		}
		open, err := s.OpenSession(ctx, "app", "u1")
		if err != nil || open.ID != second.ID {
			t.Fatalf("open session = %v, %v; want %s", open.ID, err, second.ID)
		}
	})
}

func TestRequeueAgentSessionsKeepsEnqueueTime(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
		var served []Session
		for i := range 2 {
			sess := Session{Orgi: "o", AppID: "app", UserID: fmt.Sprint("u", i), CreatedAt: t0.Add(time.Duration(i) * time.Second)}
			if err := s.CreateSession(ctx, &sess); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.AssignSession(ctx, sess.ID, "agentA", time.Now()); !ok || err != nil {
				t.Fatalf("assign: %v %v", ok, err)
			}
			served = append(served, sess)
		}
		later := Session{Orgi: "o", AppID: "app", UserID: "late", CreatedAt: t0.Add(time.Minute)}
		if err := s.CreateSession(ctx, &later); err != nil {
			t.Fatal(err)
		}
		moved, err := s.RequeueAgentSessions(ctx, "agentA")
		if err != nil || len(moved) != 2 {
			t.Fatalf("moved %d, %v", len(moved), err)
		}
		q, err := s.ListQueued(ctx, "o", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := sessionIDs(q); !slices.Equal(got, []string{served[0].ID, served[1].ID, later.ID}) {
			t.Fatalf("queue after requeue = %v; the requeued must come first", got)
		}
		if q[0].AgentNo != "" || q[0].ServiceTime != nil || !q[0].CreatedAt.Equal(t0) {
			t.Fatalf("requeued row: %+v", q[0])
		}
		if again, _ := s.RequeueAgentSessions(ctx, "agentA"); len(again) != 0 {
			t.Fatalf("second requeue moved %d", len(again))
		}
	})
}

func TestAgentStatusLog(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		for i, st := range []string{"notready", "ready"} {
			l := AgentStatusLog{AgentID: "a", Orgi: "o", Status: st, Since: t0.Add(time.Duration(i) * time.Hour), Until: t0.Add(time.Duration(i)*time.Hour + 90*time.Second)}
			if err := s.AppendAgentStatusLog(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		logs, err := s.ListAgentStatusLog(ctx, "a")
		if err != nil || len(logs) != 2 || logs[0].Status != "notready" || logs[1].Seconds != 90 {
			t.Fatalf("logs: %+v %v", logs, err)
		}
	})
}
