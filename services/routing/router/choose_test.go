package router

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/command"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

func (f *fixture) skill(name string, maxUser int) string {
	f.t.Helper()
	g := &store.SkillGroup{Orgi: "o", Name: name, MaxUser: maxUser}
	if err := f.st.CreateSkill(f.ctx, g); err != nil {
		f.t.Fatal(err)
	}
	return g.ID
}

func (f *fixture) agentIn(name string, maxUser int, skills ...string) string {
	f.t.Helper()
	a := &store.Agent{Orgi: "o", Username: name, PasswordHash: "x", Nickname: name, Roles: "agent", MaxUser: maxUser}
	if err := f.st.CreateAgent(f.ctx, a, skills); err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

func (f *fixture) request(s store.Session) store.Session {
	f.t.Helper()
	s.Orgi, s.AppID = "o", "app"
	if s.CreatedAt.IsZero() {
		s.CreatedAt = f.now
	}
	if err := f.st.CreateSession(f.ctx, &s); err != nil {
		f.t.Fatal(err)
	}
	f.handle(commandRequest(s.ID))
	return f.session(s.ID)
}

func (f *fixture) config(c store.SessionConfig) {
	f.t.Helper()
	c.Orgi = "o"
	if err := f.st.SaveSessionConfig(f.ctx, c); err != nil {
		f.t.Fatal(err)
	}
	f.handle(command.Command{Kind: command.ConfigChanged})
}

// end ends a session as the gateway does: in the store, then telling routing.
func (f *fixture) end(sessionID string) {
	f.t.Helper()
	if _, _, err := f.st.EndSession(f.ctx, sessionID, "agent", f.now); err != nil {
		f.t.Fatal(err)
	}
	f.handle(command.Command{Kind: command.SessionEnd, SessionID: sessionID})
}

func TestSkillVisitorsWaitForTheirSkill(t *testing.T) {
	f := newFixture(t, 0)
	sales := f.skill("Sales", 0)
	support := f.skill("Support", 0)
	s1 := f.agentIn("s1", 1, sales)
	f.agentIn("g1", 1) // in no group
	f.ready(s1)
	f.ready(f.agentByName("g1"))
	v1 := f.request(store.Session{UserID: "v1", Skill: sales})
	if v1.AgentNo != s1 {
		t.Fatalf("sales visitor went to %q", v1.AgentNo)
	}
	// s1 is full; a second sales visitor waits even though g1 is free.
	v2 := f.request(store.Session{UserID: "v2", Skill: sales})
	if v2.Status != protocol.SessionInQueue {
		t.Fatalf("sales visitor given to someone outside Sales: %q", v2.AgentNo)
	}
	// A support visitor with nobody in Support also waits; one without a
	// skill goes to g1; an unknown skill counts as none.
	if v3 := f.request(store.Session{UserID: "v3", Skill: support}); v3.Status != protocol.SessionInQueue {
		t.Fatal("support visitor served outside Support")
	}
	if v4 := f.request(store.Session{UserID: "v4", Skill: "no-such-group"}); v4.AgentNo != f.agentByName("g1") {
		t.Fatalf("unknown skill stranded the visitor: %+v", v4)
	}
	// Positions are per group: v2 is first in Sales, v3 first in Support.
	st := f.rec.find("v:v2", protocol.EventStatus)
	if n := *st[len(st)-1].(protocol.VisitorStatus).Num; n != 1 {
		t.Fatalf("v2 position %d", n)
	}
}

func (f *fixture) agentByName(name string) string {
	f.t.Helper()
	a, err := f.st.GetAgentByUsername(f.ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

func TestSpecifiedAgentFirstThenFallBack(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agentIn("a", 1)
	b := f.agentIn("b", 5)
	f.ready(a)
	f.ready(b)
	// b is busier than a from here on, so only the request can pick b.
	f.request(store.Session{UserID: "load1", Agent: b})
	if got := f.request(store.Session{UserID: "p", Agent: b}); got.AgentNo != b {
		t.Fatalf("specified agent ignored: %q", got.AgentNo)
	}
	if got := f.request(store.Session{UserID: "q", Agent: a}); got.AgentNo != a {
		t.Fatalf("specified agent ignored: %q", got.AgentNo)
	}
	// a is full now: asking for a falls back to the others rather than waiting.
	if got := f.request(store.Session{UserID: "r", Agent: a}); got.Status != protocol.SessionInService || got.AgentNo != b {
		t.Fatalf("request for a full agent: %s/%q", got.Status, got.AgentNo)
	}
}

func TestLastAgentFirstWhenConfigured(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agentIn("a", 0)
	b := f.agentIn("b", 0)
	f.ready(a)
	f.ready(b)
	first := f.request(store.Session{UserID: "ret"})
	f.end(first.ID)
	// Make the other agent the least loaded and idlest: only lastagent can pick the first one.
	other := a
	if first.AgentNo == a {
		other = b
	}
	f.request(store.Session{UserID: "load1", Agent: first.AgentNo})
	yes := true
	f.config(store.SessionConfig{LastAgent: &yes})
	f.now = f.now.Add(time.Minute)
	if got := f.request(store.Session{UserID: "ret"}); got.AgentNo != first.AgentNo {
		t.Fatalf("returning visitor went to %q, not their last agent %q (other %q)", got.AgentNo, first.AgentNo, other)
	}
}

func TestPolicyAndCapacityFromSettings(t *testing.T) {
	f := newFixture(t, 0)
	grp := f.skill("VIP", 3)
	a := f.agentIn("a", 0, grp) // capacity from the group: 3
	b := f.agentIn("b", 0)      // capacity from the tenant settings: 2
	f.config(store.SessionConfig{MaxUser: 2, Distribution: PolicyRound})
	f.ready(a)
	f.ready(b)
	var got []string
	for i := range 6 {
		f.now = f.now.Add(time.Second)
		got = append(got, f.request(store.Session{UserID: fmt.Sprint("r", i)}).AgentNo)
	}
	// Round robin starts at the lowest id and alternates until b (2) is
	// full; then a takes its third and the sixth visitor waits.
	lo, hi := min(a, b), max(a, b)
	want := []string{lo, hi, lo, hi, a, ""}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("assignments %v, want %v", got, want)
		}
	}
}

func TestInitMaxUserBoundsOnePull(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agentIn("a", 10)
	f.config(store.SessionConfig{InitMaxUser: 2})
	for i := range 5 {
		f.request(store.Session{UserID: fmt.Sprint("w", i), CreatedAt: f.now.Add(time.Duration(i) * time.Second)})
	}
	f.ready(a) // one drain pass
	load, _ := f.st.CountInService(f.ctx, "o")
	if load[a] != 2 {
		t.Fatalf("one pull took %d visitors, want initmaxuser 2", load[a])
	}
}

func commandRequest(sessionID string) command.Command {
	return command.Command{Kind: command.VisitorRequest, SessionID: sessionID}
}
