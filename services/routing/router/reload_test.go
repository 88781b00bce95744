package router

import (
	"testing"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// A batch that meets an agent created since the picture was loaded reloads
// it before its own decisions are written: they must survive the reload
// (a burst once lost a ready agent this way: counted and routed to by no
// one, although the database said ready).
func TestAReloadInsideABatchKeepsTheBatchDecisions(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 1)
	f.connect(a, "sock-a")
	s1 := store.Session{Orgi: "o", AppID: "app", UserID: "u1", CreatedAt: f.now}
	if err := f.st.CreateSession(f.ctx, &s1); err != nil {
		t.Fatal(err)
	}
	b := f.agent("b", "agent", 1) // unknown to the loaded picture
	batch := []command.Command{
		{ID: store.NewID(), Orgi: "o", Kind: command.AgentStatus, AgentID: a, Status: protocol.AgentReady},
		{ID: store.NewID(), Orgi: "o", Kind: command.VisitorRequest, SessionID: s1.ID},
		{ID: store.NewID(), Orgi: "o", Kind: command.AgentConnected, AgentID: b, SocketID: "sock-b", Node: "gw1"},
	}
	if err := f.svc.Handle(f.ctx, batch); err != nil {
		t.Fatal(err)
	}
	if got := f.session(s1.ID); got.Status != protocol.SessionInService || got.AgentNo != a {
		t.Fatalf("s1: %s with %q, want in service with a", got.Status, got.AgentNo)
	}
	tn := f.svc.tenants["o"]
	if st := tn.agents[a].state.Status; st != protocol.AgentReady {
		t.Fatalf("a is %s in memory after the reload, want ready", st)
	}
	if n := tn.agents[a].load; n != 1 {
		t.Fatalf("a's load %d, want 1", n)
	}
	if tn.queued(s1.ID) >= 0 {
		t.Fatal("s1 is both served and queued")
	}
	if err := f.svc.flushCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	cs := f.rec.find("t:o", protocol.EventStatus)
	if c := cs[len(cs)-1].(protocol.AgentCounters); c.Agents != 1 || c.Users != 1 || c.InQueue != 0 {
		t.Fatalf("counters %+v, want 1 ready agent serving 1, none waiting", c)
	}

	// a is full: the next visitor waits for b, and gets it once b is ready.
	s2 := f.visitor("u2", f.now)
	if got := f.session(s2.ID); got.Status != protocol.SessionInQueue {
		t.Fatalf("s2 %s with %q, want queued (a is full, b not ready)", got.Status, got.AgentNo)
	}
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: b, Status: protocol.AgentReady})
	if got := f.session(s2.ID); got.Status != protocol.SessionInService || got.AgentNo != b {
		t.Fatalf("s2: %s with %q, want in service with b", got.Status, got.AgentNo)
	}
}
