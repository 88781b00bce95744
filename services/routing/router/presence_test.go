package router

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

func (f *fixture) agentState(agentID string) store.AgentState {
	f.t.Helper()
	st, err := f.st.GetAgentState(f.ctx, agentID)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func TestReadyAgentWithoutSocketIsNotRouted(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: a, Status: protocol.AgentReady})
	s := f.visitor("u", f.now)
	if f.session(s.ID).Status != protocol.SessionInQueue {
		t.Fatal("visitor assigned to an agent with no live socket")
	}
	f.connect(a, "s1")
	if got := f.session(s.ID); got.Status != protocol.SessionInService || got.AgentNo != a {
		t.Fatalf("connecting did not drain the queue: %+v", got)
	}
}

func TestDisconnectedAgentLosesVisitorsToTheHeadOfTheQueueAfterGrace(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 2)
	b := f.agent("b", "agent", 2)
	f.ready(a)
	t0 := f.now.Add(-time.Hour)
	s1, s2 := f.visitor("u1", t0), f.visitor("u2", t0.Add(time.Second))
	s3 := f.visitor("u3", t0.Add(time.Minute)) // a is full: queued
	f.connect(a, "s2")                         // a second tab
	f.disconnect("sock-" + a)
	f.advance(time.Minute)
	if st := f.agentState(a); st.Status != protocol.AgentReady {
		t.Fatalf("agent with a tab left went %s", st.Status)
	}
	f.disconnect("s2")
	f.advance(19 * time.Second)
	if got := f.session(s1.ID); got.AgentNo != a {
		t.Fatal("visitors taken before the grace period ended")
	}
	f.advance(time.Second)
	if st := f.agentState(a); st.Status != protocol.AgentOffline || st.Busy {
		t.Fatalf("after grace: %+v", st)
	}
	for _, s := range []store.Session{s1, s2, s3} {
		if got := f.session(s.ID); got.Status != protocol.SessionInQueue || got.AgentNo != "" {
			t.Fatalf("%s after grace: %s/%q", s.UserID, got.Status, got.AgentNo)
		}
	}
	if n := len(f.rec.find("a:"+a, protocol.EventTransOut)); n != 2 {
		t.Fatalf("%d transout to the departed agent, want 2", n)
	}
	// Requeued visitors kept their place: b (capacity 2) takes them, not u3.
	f.ready(b)
	if f.session(s1.ID).AgentNo != b || f.session(s2.ID).AgentNo != b || f.session(s3.ID).Status != protocol.SessionInQueue {
		t.Fatal("requeued visitors not served first")
	}
	// Coming back from offline means not ready until the agent says so.
	f.connect(a, "s3")
	if st := f.agentState(a); st.Status != protocol.AgentNotReady {
		t.Fatalf("back from offline: %s", st.Status)
	}
}

func TestReconnectWithinGraceKeepsEverything(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	f.ready(a)
	s := f.visitor("u", f.now)
	f.disconnect("sock-" + a)
	f.advance(15 * time.Second)
	f.connect(a, "sock-2")
	f.advance(time.Hour)
	if got := f.session(s.ID); got.AgentNo != a || got.Status != protocol.SessionInService {
		t.Fatalf("page reload cost the agent its visitor: %+v", got)
	}
	if st := f.agentState(a); st.Status != protocol.AgentReady {
		t.Fatalf("status %s", st.Status)
	}
}

func TestSilentGatewayLosesItsSockets(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	b := f.agent("b", "agent", 0)
	alive := func(node string, refs ...command.SocketRef) {
		f.handle(command.Command{Kind: command.NodeAlive, Node: node, Sockets: refs})
	}
	alive("gw1", command.SocketRef{AgentID: a, Orgi: "o", SocketID: "a1"})
	alive("gw2", command.SocketRef{AgentID: b, Orgi: "o", SocketID: "b1"})
	for _, id := range []string{a, b} {
		f.handle(command.Command{Kind: command.AgentStatus, AgentID: id, Status: protocol.AgentReady})
	}
	// gw2 keeps beating, gw1 (which sent no disconnect) dies.
	for range 4 {
		f.now = f.now.Add(command.HeartbeatInterval)
		alive("gw2", command.SocketRef{AgentID: b, Orgi: "o", SocketID: "b1"})
		if err := f.svc.tick(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if f.svc.pres.online(a) || !f.svc.pres.online(b) {
		t.Fatalf("online a=%v b=%v", f.svc.pres.online(a), f.svc.pres.online(b))
	}
	f.advance(20 * time.Second)
	if f.agentState(a).Status != protocol.AgentOffline || f.agentState(b).Status != protocol.AgentReady {
		t.Fatal("wrong agent went offline")
	}
	// A heartbeat that no longer lists a socket counts as its disconnect.
	alive("gw2")
	f.advance(20 * time.Second)
	if f.agentState(b).Status != protocol.AgentOffline {
		t.Fatal("socket missing from the heartbeat kept its agent online")
	}
}

func TestAfterRestartAgentsAreExpectedBackThenGoOffline(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	b := f.agent("b", "agent", 0)
	f.ready(a)
	f.ready(b)
	s := f.visitor("u", f.now)
	served := f.session(s.ID).AgentNo
	// A new replica: it knows nothing of sockets until heartbeats come.
	f.svc = New(f.st, f.rec, f.svc.log, Options{AgentGrace: 20 * time.Second})
	f.svc.now = func() time.Time { return f.now }
	if err := f.svc.expectAgentsBack(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(5 * time.Second)
	f.handle(command.Command{Kind: command.NodeAlive, Node: "gw1", Sockets: []command.SocketRef{{AgentID: served, Orgi: "o", SocketID: "x"}}})
	f.advance(nodeTimeout + 20*time.Second)
	other := a
	if served == a {
		other = b
	}
	if f.agentState(served).Status != protocol.AgentReady || f.agentState(other).Status != protocol.AgentOffline {
		t.Fatalf("served %s, other %s", f.agentState(served).Status, f.agentState(other).Status)
	}
	if f.session(s.ID).AgentNo != served {
		t.Fatal("a restart cost the announced agent its visitor")
	}
}

func TestStatusChangesAreLoggedWithDurations(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	f.ready(a) // notready (no record) → ready
	f.now = f.now.Add(90 * time.Second)
	busy := true
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: a, Busy: &busy})
	f.now = f.now.Add(30 * time.Second)
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: a, Status: protocol.AgentNotReady})
	logs, err := f.st.ListAgentStatusLog(f.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || logs[0].Status != protocol.AgentReady || logs[0].Busy || logs[0].Seconds != 90 ||
		!logs[1].Busy || logs[1].Seconds != 30 {
		t.Fatalf("logs: %+v", logs)
	}
}

func TestColleaguesHearPresenceChanges(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	room := protocol.NamespaceIM + " " + protocol.TenantIMRoom("o")
	f.connect(a, "s1")
	f.connect(a, "s2") // a second tab is no news
	got := f.rec.find(room, protocol.EventStatus)
	if len(got) != 1 || got[0] != (protocol.IMPresence{UserID: a, Online: true}) {
		t.Fatalf("online: %+v", got)
	}
	// The stored state agrees (the IM contacts list reads it), also for an agent new to routing.
	if st, err := f.st.GetAgentState(f.ctx, a); err != nil || st.Status == protocol.AgentOffline {
		t.Fatalf("stored state of an online agent: %+v, %v", st, err)
	}
	f.disconnect("s1")
	f.disconnect("s2")
	f.advance(19 * time.Second)
	if n := len(f.rec.find(room, protocol.EventStatus)); n != 1 {
		t.Fatal("offline announced within the grace")
	}
	f.advance(time.Second)
	got = f.rec.find(room, protocol.EventStatus)
	if len(got) != 2 || got[1] != (protocol.IMPresence{UserID: a, Online: false}) {
		t.Fatalf("offline: %+v", got)
	}
}
