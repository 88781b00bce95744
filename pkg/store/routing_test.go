package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestRoutingLookups(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		sk := &SkillGroup{Orgi: "o", Name: "Sales"}
		other := &SkillGroup{Orgi: "x", Name: "Elsewhere"}
		for _, g := range []*SkillGroup{sk, other} {
			if err := s.CreateSkill(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		a := &Agent{Orgi: "o", Username: "a", PasswordHash: "h", Nickname: "A", Roles: "agent"}
		b := &Agent{Orgi: "o", Username: "b", PasswordHash: "h", Nickname: "B", Roles: "agent"}
		if err := s.CreateAgent(ctx, a, []string{sk.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAgent(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
		skills, err := s.TenantAgentSkills(ctx, "o")
		if err != nil || !slices.Equal(skills[a.ID], []string{sk.ID}) || len(skills[b.ID]) != 0 {
			t.Fatalf("skills %v %v", skills, err)
		}

		t0 := time.Now().Add(-time.Hour)
		for i, agent := range []string{a.ID, b.ID, a.ID} {
			sess := &Session{Orgi: "o", AppID: "app", UserID: "u", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AssignSession(ctx, sess.ID, agent, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.EndSession(ctx, sess.ID, "agent", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		last, err := s.LastAgents(ctx, "app", "u", 5)
		if err != nil || !slices.Equal(last, []string{a.ID, b.ID}) {
			t.Fatalf("last agents %v %v; want a (most recent) then b", last, err)
		}

		yes := true
		if err := s.SaveSessionConfig(ctx, SessionConfig{Orgi: "o", Distribution: "least", LastAgent: &yes, MaxUser: 4}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSessionConfig(ctx, SessionConfig{Orgi: "o", Skill: sk.ID, Distribution: "round"}); err != nil {
			t.Fatal(err)
		}
		// Saving replaces the whole row: an omitted LastAgent inherits again.
		if err := s.SaveSessionConfig(ctx, SessionConfig{Orgi: "o", Distribution: "idle", MaxUser: 6}); err != nil {
			t.Fatal(err)
		}
		cfgs, err := s.SessionConfigs(ctx, "o")
		if err != nil || len(cfgs) != 2 || cfgs[0].Distribution != "idle" || cfgs[0].MaxUser != 6 || cfgs[0].LastAgent != nil || cfgs[1].Distribution != "round" {
			t.Fatalf("configs %+v %v", cfgs, err)
		}
		// The schedule is saved and replaced like every other field.
		for _, sched := range []string{`{"days":{"sat":""}}`, `{"holidays":[{"date":"2026-10-01","hours":""}]}`} {
			if err := s.SaveSessionConfig(ctx, SessionConfig{Orgi: "o", Skill: sk.ID, SessionTimers: SessionTimers{Schedule: sched}}); err != nil {
				t.Fatal(err)
			}
			if cfgs, err = s.SessionConfigs(ctx, "o"); err != nil || cfgs[1].Schedule != sched {
				t.Fatalf("schedule %+v %v; want %s", cfgs, err, sched)
			}
		}
		// Removing a group's overrides leaves the tenant's row.
		if err := s.DeleteSessionConfig(ctx, "o", sk.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSessionConfig(ctx, "o", ""); !errors.Is(err, ErrConflict) {
			t.Fatalf("deleting the tenant's row: %v", err)
		}
		if cfgs, err = s.SessionConfigs(ctx, "o"); err != nil || len(cfgs) != 1 || cfgs[0].Skill != "" {
			t.Fatalf("after delete: %+v %v", cfgs, err)
		}
	})
}

func TestUpdateSkill(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		g := &SkillGroup{Orgi: "o", Name: "Sales"}
		if err := s.CreateSkill(ctx, g); err != nil {
			t.Fatal(err)
		}
		g.Name, g.MaxUser, g.Disabled = "Sales EU", 4, true
		if err := s.UpdateSkill(ctx, g); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListSkills(ctx, "o")
		if err != nil || len(got) != 1 || got[0].Name != "Sales EU" || got[0].MaxUser != 4 || !got[0].Disabled {
			t.Fatalf("skills %+v %v", got, err)
		}
		if err := s.UpdateSkill(ctx, &SkillGroup{ID: "nope"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown skill: %v", err)
		}
	})
}

func TestGetAgentState(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.GetAgentState(ctx, "a"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no state yet: %v", err)
		}
		if err := s.SaveAgentState(ctx, AgentState{AgentID: "a", Orgi: "o", Status: "ready", Busy: true}); err != nil {
			t.Fatal(err)
		}
		st, err := s.GetAgentState(ctx, "a")
		if err != nil || st.Status != "ready" || !st.Busy || !st.LastAssigned.IsZero() {
			t.Fatalf("state %+v %v", st, err)
		}
	})
}
