package store

import (
	"testing"
	"time"
)

func TestAudit(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		add := func(orgi, actor, action, target, detail string, d time.Duration) {
			t.Helper()
			e := AuditEntry{Orgi: orgi, ActorID: actor, ActorName: "Name " + actor, Action: action, Target: target, Detail: detail, IP: "10.0.0.1", CreatedAt: at.Add(d)}
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		add("o1", "a1", "agents.create", "", `{"username":"bob","password":"***"}`, 0)
		add("o1", "a1", "agents.update", "bob-id", `{"nickname":"100%_sure"}`, time.Minute)
		add("o1", "a2", "agents.logins.delete", "bob-id", "", time.Minute) // same time: pk decides
		add("o1", "a2", "agentsx.update", "x", "", 2*time.Minute)
		add("o1", "a2", "skills.create", "", `{"name":"Sales"}`, 3*time.Minute)
		add("o2", "z", "agents.create", "", "", 0)
		if err := s.AppendAudit(ctx, AuditEntry{Orgi: "o1"}); err == nil {
			t.Error("an entry without action was accepted")
		}
		actions := func(q AuditQuery) []string {
			t.Helper()
			p, err := s.ListAudit(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, e := range p.Entries {
				out = append(out, e.Action)
			}
			return out
		}
		eq := func(name string, got []string, want ...string) {
			t.Helper()
			if len(got) != len(want) {
				t.Errorf("%s = %v, want %v", name, got, want)
				return
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s = %v, want %v", name, got, want)
					return
				}
			}
		}
		eq("all", actions(AuditQuery{Orgi: "o1"}), "skills.create", "agentsx.update", "agents.logins.delete", "agents.update", "agents.create")
		eq("actor", actions(AuditQuery{Orgi: "o1", ActorID: "a1"}), "agents.update", "agents.create")
		eq("action and below", actions(AuditQuery{Orgi: "o1", Action: "agents"}), "agents.logins.delete", "agents.update", "agents.create")
		eq("exact action", actions(AuditQuery{Orgi: "o1", Action: "agents.update"}), "agents.update")
		eq("text in target", actions(AuditQuery{Orgi: "o1", Text: "bob-id"}), "agents.logins.delete", "agents.update")
		eq("text, literally", actions(AuditQuery{Orgi: "o1", Text: "0%_s"}), "agents.update")
		eq("text in actor name", actions(AuditQuery{Orgi: "o1", Text: "Name a1"}), "agents.update", "agents.create")
		eq("range", actions(AuditQuery{Orgi: "o1", From: at.Add(time.Minute), To: at.Add(3 * time.Minute)}), "agentsx.update", "agents.logins.delete", "agents.update")

		// Pages of two, through the cursor, cover everything once.
		var got []string
		q := AuditQuery{Orgi: "o1", Limit: 2}
		for pages := 0; ; pages++ {
			p, err := s.ListAudit(ctx, q)
			if err != nil || pages > 3 {
				t.Fatalf("paging: %v after %d pages", err, pages)
			}
			for _, e := range p.Entries {
				got = append(got, e.Action)
				if e.Orgi != "o1" || e.PK == 0 || e.CreatedAt.Location() != time.UTC {
					t.Errorf("entry %+v", e)
				}
			}
			if p.Next == nil {
				break
			}
			q.Before = p.Next
		}
		eq("paged", got, "skills.create", "agentsx.update", "agents.logins.delete", "agents.update", "agents.create")
	})
}
