package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestAgentsAndSkills(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		sales := SkillGroup{Orgi: "org1", Name: "sales"}
		support := SkillGroup{Orgi: "org1", Name: "support"}
		foreign := SkillGroup{Orgi: "org2", Name: "sales"}
		for _, g := range []*SkillGroup{&sales, &support, &foreign} {
			if err := s.CreateSkill(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
		groups, err := s.ListSkills(ctx, "org1")
		if err != nil || len(groups) != 2 || groups[0].ID != sales.ID || groups[1].ID != support.ID {
			t.Fatalf("ListSkills = %+v (%v)", groups, err)
		}

		alice := Agent{Orgi: "org1", Username: "alice", PasswordHash: "h1", Nickname: "Alice", Roles: "agent"}
		if err := s.CreateAgent(ctx, &alice, []string{support.ID, sales.ID, sales.ID}); err != nil {
			t.Fatal(err)
		}
		if len(alice.ID) != 32 {
			t.Errorf("agent id %q", alice.ID)
		}
		want := []string{sales.ID, support.ID}
		slices.Sort(want)
		skills, err := s.AgentSkills(ctx, alice.ID)
		if err != nil || !slices.Equal(skills, want) {
			t.Errorf("AgentSkills = %v (%v), want %v", skills, err, want)
		}

		// Usernames are unique per installation, ignoring case, on every backend.
		for _, name := range []string{"alice", "ALICE", "Alice"} {
			dup := Agent{Orgi: "org2", Username: name, PasswordHash: "h", Nickname: "x", Roles: "agent"}
			if err := s.CreateAgent(ctx, &dup, nil); !errors.Is(err, ErrConflict) {
				t.Errorf("CreateAgent(%q): %v, want ErrConflict", name, err)
			}
		}
		got, err := s.GetAgentByUsername(ctx, "ALICE")
		if err != nil || got.ID != alice.ID {
			t.Errorf("GetAgentByUsername(ALICE) = %s (%v), want %s", got.ID, err, alice.ID)
		}

		// Another tenant's skill is refused and nothing is created.
		bob := Agent{Orgi: "org1", Username: "bob", PasswordHash: "h2", Nickname: "Bob", Roles: "agent"}
		if err := s.CreateAgent(ctx, &bob, []string{sales.ID, foreign.ID}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("CreateAgent with a foreign skill: %v, want ErrNotFound", err)
		}
		if _, err := s.GetAgentByUsername(ctx, "bob"); !errors.Is(err, ErrNotFound) {
			t.Errorf("half-created agent left behind: %v", err)
		}
		bob.ID = ""
		if err := s.CreateAgent(ctx, &bob, nil); err != nil {
			t.Fatal(err)
		}

		// Update: fields change, nil skills leave skills alone, a list replaces them.
		alice.Nickname, alice.MaxUser, alice.Disabled, alice.Orgi = "Alice W.", 3, true, "org2"
		if err := s.UpdateAgent(ctx, &alice, nil); err != nil {
			t.Fatal(err)
		}
		got, err = s.GetAgent(ctx, alice.ID)
		if err != nil || got.Nickname != "Alice W." || got.MaxUser != 3 || !got.Disabled || got.Orgi != "org1" || got.PasswordHash != "h1" {
			t.Errorf("after UpdateAgent: %+v (%v)", got, err)
		}
		if skills, _ := s.AgentSkills(ctx, alice.ID); len(skills) != 2 {
			t.Errorf("nil skills changed the skills: %v", skills)
		}
		if err := s.UpdateAgent(ctx, &alice, &[]string{support.ID}); err != nil {
			t.Fatal(err)
		}
		if skills, _ := s.AgentSkills(ctx, alice.ID); !slices.Equal(skills, []string{support.ID}) {
			t.Errorf("skills after replace = %v, want [%s]", skills, support.ID)
		}
		if err := s.UpdateAgent(ctx, &alice, &[]string{foreign.ID}); !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateAgent with a foreign skill: %v, want ErrNotFound", err)
		}
		if skills, _ := s.AgentSkills(ctx, alice.ID); !slices.Equal(skills, []string{support.ID}) {
			t.Errorf("failed update changed the skills: %v", skills)
		}
		if err := s.UpdateAgent(ctx, &alice, &[]string{}); err != nil {
			t.Fatal(err)
		}
		if skills, err := s.AgentSkills(ctx, alice.ID); err != nil || skills == nil || len(skills) != 0 {
			t.Errorf("skills after clearing = %v (%v), want empty", skills, err)
		}
		renamed := bob
		renamed.Username = "Alice"
		if err := s.UpdateAgent(ctx, &renamed, nil); !errors.Is(err, ErrConflict) {
			t.Errorf("rename to a taken username: %v, want ErrConflict", err)
		}

		agents, err := s.ListAgents(ctx, "org1")
		if err != nil || len(agents) != 2 || agents[0].Username != "alice" || agents[1].Username != "bob" {
			t.Errorf("ListAgents = %+v (%v)", agents, err)
		}
		if agents, _ := s.ListAgents(ctx, "org2"); len(agents) != 0 {
			t.Errorf("org2 agents = %+v", agents)
		}
	})
}

func TestConcurrentUsernameRegistration(t *testing.T) {
	const n = 6
	eachBackend(t, func(t *testing.T, d *testDB) {
		d.migrated(t)
		stores := make([]*Store, n)
		for i := range stores {
			stores[i] = d.open(t)
		}
		var (
			mu       sync.Mutex
			ok, conf int
		)
		parallel(n, func(i int) {
			a := Agent{Orgi: "org1", Username: "carol", PasswordHash: "h", Nickname: fmt.Sprint(i), Roles: "agent"}
			err := stores[i].CreateAgent(t.Context(), &a, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrConflict):
				conf++
			default:
				t.Errorf("CreateAgent #%d: %v", i, err)
			}
		})
		if ok != 1 || conf != n-1 {
			t.Errorf("%d created, %d conflicts; want 1 and %d", ok, conf, n-1)
		}
	})
}

func TestTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		now := time.Now().UTC()
		for _, tok := range []Token{
			{Hash: "h-live", AgentID: "a1", ExpiresAt: now.Add(time.Hour)},
			{Hash: "h-old", AgentID: "a1", ExpiresAt: now.Add(-time.Minute)},
			{Hash: "h-other", AgentID: "a2", ExpiresAt: now.Add(-time.Hour)},
			{Hash: "h-a2", AgentID: "a2", ExpiresAt: now.Add(time.Hour)},
		} {
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateToken(ctx, Token{Hash: "h-live", AgentID: "a9", ExpiresAt: now}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate hash: %v, want ErrConflict", err)
		}
		if err := s.CreateToken(ctx, Token{Hash: "h-x", AgentID: "a9"}); err == nil {
			t.Error("token without expiry accepted")
		}
		tok, err := s.GetToken(ctx, "h-live")
		if err != nil || tok.AgentID != "a1" || !tok.ExpiresAt.Equal(utc(now.Add(time.Hour))) || tok.CreatedAt.IsZero() {
			t.Fatalf("GetToken = %+v (%v)", tok, err)
		}
		later := now.Add(12 * time.Hour)
		if err := s.ExtendToken(ctx, "h-live", later); err != nil {
			t.Fatal(err)
		}
		// Extending twice within a millisecond writes identical values and
		// must still count as found (MySQL reports changed rows by default).
		if err := s.ExtendToken(ctx, "h-live", later); err != nil {
			t.Fatalf("idempotent ExtendToken: %v", err)
		}
		if tok, _ := s.GetToken(ctx, "h-live"); !tok.ExpiresAt.Equal(utc(later)) {
			t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, utc(later))
		}

		n, err := s.DeleteExpiredTokens(ctx, now)
		if err != nil || n != 2 {
			t.Errorf("DeleteExpiredTokens = %d (%v), want 2", n, err)
		}
		if _, err := s.GetToken(ctx, "h-old"); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired token still there: %v", err)
		}
		if err := s.DeleteToken(ctx, "h-live"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteToken(ctx, "h-live"); err != nil {
			t.Errorf("deleting a deleted token: %v", err)
		}
		if err := s.DeleteAgentTokens(ctx, "a2"); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"h-live", "h-a2"} {
			if _, err := s.GetToken(ctx, h); !errors.Is(err, ErrNotFound) {
				t.Errorf("token %s survived: %v", h, err)
			}
		}
	})
}

func TestTenantsAndSites(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		org := Tenant{Name: "Acme 株式会社"}
		if err := s.CreateTenant(ctx, &org); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetTenant(ctx, org.ID)
		if err != nil || got.Name != org.Name || got.TimeZone != "UTC" || got.CreatedAt.IsZero() {
			t.Fatalf("GetTenant = %+v (%v)", got, err)
		}
		if err := s.CreateTenant(ctx, &Tenant{ID: org.ID, Name: "again"}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate tenant: %v, want ErrConflict", err)
		}

		site := Site{Orgi: org.ID, Name: "Main"}
		if err := s.CreateSite(ctx, &site); err != nil {
			t.Fatal(err)
		}
		second := Site{Orgi: org.ID, Name: "Docs", Origins: `["https://docs.example.com"]`, TextLimit: 500, CreatedAt: site.CreatedAt.Add(time.Second)}
		if err := s.CreateSite(ctx, &second); err != nil {
			t.Fatal(err)
		}
		gs, err := s.GetSite(ctx, site.AppID)
		if err != nil || gs.Origins != "[]" || gs.Config != "{}" || gs.Name != "Main" {
			t.Errorf("GetSite = %+v (%v)", gs, err)
		}
		site.Name, site.Origins, site.Config, site.TextLimit, site.Disabled, site.Orgi = "Main site", `["*"]`, `{"color":"red"}`, 100, true, "org-x"
		if err := s.UpdateSite(ctx, &site); err != nil {
			t.Fatal(err)
		}
		// Writing the same values again is still a hit, not ErrNotFound.
		if err := s.UpdateSite(ctx, &site); err != nil {
			t.Fatalf("repeated UpdateSite: %v", err)
		}
		gs, _ = s.GetSite(ctx, site.AppID)
		if gs.Name != "Main site" || gs.Origins != `["*"]` || gs.Config != `{"color":"red"}` || gs.TextLimit != 100 || !gs.Disabled || gs.Orgi != org.ID {
			t.Errorf("after UpdateSite: %+v", gs)
		}
		sites, err := s.ListSites(ctx, org.ID)
		if err != nil || len(sites) != 2 || sites[0].AppID != site.AppID || sites[1].AppID != second.AppID {
			t.Errorf("ListSites = %+v (%v)", sites, err)
		}
		if sites, _ := s.ListSites(ctx, "org-x"); len(sites) != 0 {
			t.Errorf("UpdateSite moved the site to another tenant: %+v", sites)
		}
	})
}

func TestSettingRace(t *testing.T) {
	const n = 8
	eachBackend(t, func(t *testing.T, d *testDB) {
		d.migrated(t)
		stores := make([]*Store, n)
		for i := range stores {
			stores[i] = d.open(t)
		}
		got := make([]string, n)
		parallel(n, func(i int) {
			v, err := stores[i].Setting(t.Context(), "visitor_secret", func() (string, error) {
				return fmt.Sprintf("secret-from-%d", i), nil
			})
			if err != nil {
				t.Errorf("Setting #%d: %v", i, err)
			}
			got[i] = v
		})
		if got[0] == "" {
			t.Fatal("empty setting")
		}
		for i, v := range got {
			if v != got[0] {
				t.Fatalf("process %d got %q, process 0 got %q: all must agree", i, v, got[0])
			}
		}
		// Once stored, create is not consulted.
		v, err := stores[0].Setting(t.Context(), "visitor_secret", func() (string, error) {
			t.Error("create called for an existing setting")
			return "other", nil
		})
		if err != nil || v != got[0] {
			t.Errorf("re-read = %q (%v), want %q", v, err, got[0])
		}
		// A failing create stores nothing.
		boom := errors.New("boom")
		if _, err := stores[0].Setting(t.Context(), "k2", func() (string, error) { return "", boom }); !errors.Is(err, boom) {
			t.Errorf("failing create: %v, want boom", err)
		}
		v, err = stores[0].Setting(t.Context(), "k2", func() (string, error) { return "ok", nil })
		if err != nil || v != "ok" {
			t.Errorf("after a failed create: %q (%v)", v, err)
		}
	})
}

func TestDeleteAgentKeepsTheRowAndFreesTheName(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		g := SkillGroup{Orgi: "org1", Name: "sales"}
		if err := s.CreateSkill(ctx, &g); err != nil {
			t.Fatal(err)
		}
		carol := Agent{Orgi: "org1", Username: "carol", PasswordHash: "h", Nickname: "Carol C.", Roles: "agent"}
		if err := s.CreateAgent(ctx, &carol, []string{g.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateToken(ctx, Token{Hash: "carol-token", AgentID: carol.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAgent(ctx, carol.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAgent(ctx, carol.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleting twice: %v, want ErrNotFound", err)
		}
		got, err := s.GetAgent(ctx, carol.ID)
		if err != nil || got.DeletedAt == nil || !got.Disabled || got.Nickname != "Carol C." || got.Username != DeletedUsername(carol.ID) {
			t.Fatalf("deleted agent = %+v (%v): want kept, marked, disabled, renamed, nickname intact", got, err)
		}
		if skills, _ := s.AgentSkills(ctx, carol.ID); len(skills) != 0 {
			t.Errorf("deleted agent keeps skills %v", skills)
		}
		if _, err := s.GetToken(ctx, "carol-token"); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted agent keeps its login: %v", err)
		}
		if list, _ := s.ListAgents(ctx, "org1"); len(list) != 0 {
			t.Errorf("ListAgents shows the deleted agent: %+v", list)
		}
		names, err := s.AgentNicknames(ctx, "org1")
		if err != nil || names[carol.ID] != "Carol C." {
			t.Errorf("AgentNicknames = %v (%v): the deleted agent's name must stay", names, err)
		}
		again := Agent{Orgi: "org1", Username: "Carol", PasswordHash: "h", Nickname: "New Carol", Roles: "agent"}
		if err := s.CreateAgent(ctx, &again, nil); err != nil {
			t.Errorf("reusing a deleted agent's username: %v", err)
		}
	})
}

func TestSetSkillMembers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		g := SkillGroup{Orgi: "org1", Name: "sales"}
		other := SkillGroup{Orgi: "org1", Name: "support"}
		for _, x := range []*SkillGroup{&g, &other} {
			if err := s.CreateSkill(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		for _, name := range []string{"a1", "a2", "a3", "foreign"} {
			a := Agent{Orgi: "org1", Username: name, PasswordHash: "h", Nickname: name, Roles: "agent"}
			if name == "foreign" {
				a.Orgi = "org2"
			}
			if err := s.CreateAgent(ctx, &a, []string{}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		if err := s.SetSkillMembers(ctx, "org1", other.ID, ids[:1]); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSkillMembers(ctx, "org1", g.ID, []string{ids[0], ids[1], ids[1]}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSkillMembers(ctx, "org1", g.ID, []string{ids[1], ids[2]}); err != nil {
			t.Fatal(err)
		}
		members := func(agent string) []string {
			sk, err := s.AgentSkills(ctx, agent)
			if err != nil {
				t.Fatal(err)
			}
			return sk
		}
		if got := members(ids[0]); !slices.Equal(got, []string{other.ID}) {
			t.Errorf("a1 (taken out of sales, still in support) in %v", got)
		}
		if got := members(ids[2]); !slices.Equal(got, []string{g.ID}) {
			t.Errorf("a3 in %v, want sales", got)
		}
		for name, call := range map[string]func() error{
			"another tenant's agent": func() error { return s.SetSkillMembers(ctx, "org1", g.ID, []string{ids[3]}) },
			"another tenant's group": func() error { return s.SetSkillMembers(ctx, "org2", g.ID, nil) },
		} {
			if err := call(); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
		if got := members(ids[1]); !slices.Equal(got, []string{g.ID}) {
			t.Errorf("a refused change left a2 in %v", got)
		}
	})
}

func TestDeleteSkillRefusesWhileInUse(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		parent := SkillGroup{Orgi: "org1", Name: "parent"}
		if err := s.CreateSkill(ctx, &parent); err != nil {
			t.Fatal(err)
		}
		child := SkillGroup{Orgi: "org1", Name: "child", ParentID: parent.ID}
		if err := s.CreateSkill(ctx, &child); err != nil {
			t.Fatal(err)
		}
		a := Agent{Orgi: "org1", Username: "member", PasswordHash: "h", Nickname: "m", Roles: "agent"}
		if err := s.CreateAgent(ctx, &a, []string{child.ID}); err != nil {
			t.Fatal(err)
		}
		queued := Session{Orgi: "org1", AppID: "app", UserID: "v1", Skill: child.ID}
		if err := s.CreateSession(ctx, &queued); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSessionConfig(ctx, SessionConfig{Orgi: "org1", Skill: child.ID, MaxUser: 3}); err != nil {
			t.Fatal(err)
		}
		inUse := func(id string, want SkillInUseError) {
			t.Helper()
			var use *SkillInUseError
			if err := s.DeleteSkill(ctx, "org1", id); !errors.As(err, &use) || *use != want || !errors.Is(err, ErrConflict) {
				t.Fatalf("DeleteSkill: %v, want in use %+v", err, want)
			}
		}
		site := Site{AppID: "site1", Orgi: "org1", Name: "web", Origins: "[]", Config: "{}", Skills: "elsewhere," + child.ID}
		if err := s.CreateSite(ctx, &site); err != nil {
			t.Fatal(err)
		}
		inUse(parent.ID, SkillInUseError{Children: 1})
		inUse(child.ID, SkillInUseError{Members: 1, Queued: 1, Sites: 1})
		if err := s.db.Model(&Site{}).Where("appid = ?", site.AppID).Update("skills", "elsewhere").Error; err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.EndSession(ctx, queued.ID, "user", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSkillMembers(ctx, "org1", child.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSkill(ctx, "org2", child.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another tenant's delete: %v, want ErrNotFound", err)
		}
		for _, id := range []string{child.ID, parent.ID} {
			if err := s.DeleteSkill(ctx, "org1", id); err != nil {
				t.Fatalf("DeleteSkill once free: %v", err)
			}
		}
		if groups, _ := s.ListSkills(ctx, "org1"); len(groups) != 0 {
			t.Errorf("groups left: %+v", groups)
		}
		cfgs, err := s.SessionConfigs(ctx, "org1")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cfgs {
			if c.Skill == child.ID {
				t.Errorf("the deleted group's settings stay: %+v", c)
			}
		}
	})
}
