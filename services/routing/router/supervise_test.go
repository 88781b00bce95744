package router

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// ask sends a supervision command and returns routing's answer.
func (f *fixture) ask(c command.Command) protocol.TransferResult {
	f.t.Helper()
	c.ReplyTo = store.NewID()
	f.handle(c)
	got := f.rec.find("reply:"+c.ReplyTo, "reply")
	if len(got) != 1 {
		f.t.Fatalf("%d answers to one %s", len(got), c.Kind)
	}
	return got[0].(protocol.TransferResult)
}

func (f *fixture) kinds(sessionID string) []string {
	f.t.Helper()
	evs, err := f.st.SessionEvents(f.ctx, sessionID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func TestTakeOverMovesTheChatToTheSupervisorOverCapacity(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 1)
	boss := f.agent("boss", "supervisor", 1)
	f.ready(a)
	s := f.visitor("u", f.now)
	held := f.visitor("u2", f.now) // a is full: u2 waits
	f.connect(boss, "sock-boss")
	// The supervisor is full too (capacity 1, one chat) and not ready:
	// a takeover ignores both.
	first := f.ask(command.Command{Kind: command.TakeOver, SessionID: s.ID, By: boss})
	if !first.OK || first.Session.AgentNo != boss {
		t.Fatalf("takeover: %+v", first)
	}
	if got := f.session(s.ID); got.AgentNo != boss || got.Status != protocol.SessionInService {
		t.Fatalf("stored: %+v", got)
	}
	if len(f.rec.find("a:"+a, protocol.EventTransOut)) != 1 || len(f.rec.find("a:"+boss, protocol.EventNew)) != 1 {
		t.Fatal("agent not told transout, or supervisor not told new")
	}
	if st := f.rec.find("v:u", protocol.EventStatus); st[len(st)-1].(protocol.VisitorStatus).AgentNo != boss {
		t.Fatalf("visitor not told: %+v", st)
	}
	// The agent has room again: the waiting visitor is served by it.
	if f.session(held.ID).AgentNo != a {
		t.Fatal("the agent's freed room went unused")
	}
	if k := f.kinds(s.ID); !slices.Equal(k, []string{protocol.SessionQueued, protocol.SessionAssigned, protocol.SessionTakenOver}) {
		t.Fatalf("events: %v", k)
	}
	if mir := f.rec.find("mon:o", protocol.EventAuditTransOut); len(mir) != 1 {
		t.Fatalf("supervisors not told the chat left its agent: %d", len(mir))
	}
	// Refusals: not in service; already yours; a supervisor without a socket.
	if r := f.ask(command.Command{Kind: command.TakeOver, SessionID: s.ID, By: boss}); r.OK || r.Error.Code != protocol.CodeConflict {
		t.Fatalf("takeover of one's own chat: %+v", r)
	}
	f.disconnect("sock-boss")
	other := f.agent("other", "supervisor", 0)
	if r := f.ask(command.Command{Kind: command.TakeOver, SessionID: held.ID, By: other}); r.OK || r.Error.Code != protocol.CodeConflict {
		t.Fatalf("takeover without a workbench: %+v", r)
	}
}

func TestQueueAssignByHand(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 1)
	b := f.agent("b", "agent", 1)
	boss := f.agent("boss", "supervisor", 0)
	f.connect(a, "sock-a") // online, not ready
	f.ready(b)
	s1 := f.visitor("u1", f.now.Add(-time.Minute)) // to b, who is ready
	s2 := f.visitor("u2", f.now)                   // waits: b is full, a not ready
	if f.session(s1.ID).AgentNo != b || f.session(s2.ID).Status != protocol.SessionInQueue {
		t.Fatal("setup")
	}
	if r := f.ask(command.Command{Kind: command.QueueAssign, SessionID: s2.ID, AgentID: a, By: boss}); r.OK || r.Error.Code != protocol.CodeConflict {
		t.Fatalf("to a not-ready agent without override: %+v", r)
	}
	if r := f.ask(command.Command{Kind: command.QueueAssign, SessionID: s2.ID, AgentID: b, By: boss}); r.OK || r.Error.Code != protocol.CodeConflict {
		t.Fatalf("to a full agent without override: %+v", r)
	}
	r := f.ask(command.Command{Kind: command.QueueAssign, SessionID: s2.ID, AgentID: a, By: boss, Override: true})
	if !r.OK || f.session(s2.ID).AgentNo != a {
		t.Fatalf("override: %+v", r)
	}
	evs, _ := f.st.SessionEvents(f.ctx, s2.ID)
	if last := evs[len(evs)-1]; last.Kind != protocol.SessionAssigned || last.Actor != boss || last.Target != a {
		t.Fatalf("assigned event: %+v", last)
	}
	// Take it: to oneself, with a socket, over capacity and not ready.
	s3 := f.visitor("u3", f.now)
	f.connect(boss, "sock-boss")
	if r := f.ask(command.Command{Kind: command.QueueAssign, SessionID: s3.ID, AgentID: boss, By: boss}); !r.OK || f.session(s3.ID).AgentNo != boss {
		t.Fatalf("take it: %+v", r)
	}
	if r := f.ask(command.Command{Kind: command.QueueAssign, SessionID: s3.ID, AgentID: boss, By: boss}); r.OK || r.Error.Code != protocol.CodeConflict {
		t.Fatalf("no longer waiting: %+v", r)
	}
}

func TestQueueMoveAndReroute(t *testing.T) {
	f := newFixture(t, 0)
	sales := f.skill("sales", 0)
	billing := f.skill("billing", 0)
	inSales := f.agentIn("s", 5, sales)
	boss := f.agent("boss", "supervisor", 0)
	s := f.request(store.Session{Orgi: "o", AppID: "app", UserID: "u", Skill: billing, CreatedAt: f.now})
	if f.session(s.ID).Status != protocol.SessionInQueue {
		t.Fatal("setup: nobody in billing")
	}
	f.ready(inSales)
	if f.session(s.ID).Status != protocol.SessionInQueue {
		t.Fatal("a billing visitor went to sales")
	}
	if r := f.ask(command.Command{Kind: command.QueueMove, SessionID: s.ID, Skill: "nope", By: boss}); r.OK || r.Error.Code != protocol.CodeNotFound {
		t.Fatalf("unknown group: %+v", r)
	}
	r := f.ask(command.Command{Kind: command.QueueMove, SessionID: s.ID, Skill: sales, By: boss})
	if !r.OK || r.Queued {
		t.Fatalf("move: %+v", r)
	}
	if got := f.session(s.ID); got.Skill != sales || got.AgentNo != inSales {
		t.Fatalf("moved and served: %+v", got)
	}
	// Reroute: an asked-for agent and group dropped, to anyone.
	s2 := f.request(store.Session{Orgi: "o", AppID: "app", UserID: "u2", Skill: billing, Agent: "gone", CreatedAt: f.now})
	if r := f.ask(command.Command{Kind: command.QueueReroute, SessionID: s2.ID, By: boss}); !r.OK || r.Queued {
		t.Fatalf("reroute: %+v", r)
	}
	if got := f.session(s2.ID); got.Skill != "" || got.Agent != "" || got.AgentNo != inSales {
		t.Fatalf("rerouted and served: %+v", got)
	}
	if k := f.kinds(s2.ID); !slices.Contains(k, protocol.SessionRerouted) {
		t.Fatalf("events: %v", k)
	}
}

func TestForceOfflineRequeuesAtTheHeadAndTellsTheAgent(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 1)
	boss := f.agent("boss", "supervisor", 0)
	f.ready(a)
	s := f.visitor("u", f.now.Add(-time.Minute))
	later := f.visitor("u2", f.now)
	r := f.ask(command.Command{Kind: command.AgentOffline, AgentID: a, By: boss})
	if !r.OK {
		t.Fatalf("offline: %+v", r)
	}
	if st := f.agentState(a); st.Status != protocol.AgentOffline {
		t.Fatalf("state %s", st.Status)
	}
	if got := f.session(s.ID); got.Status != protocol.SessionInQueue {
		t.Fatalf("chat not requeued: %+v", got)
	}
	changes := f.rec.find("a:"+a, protocol.EventAgentStatus)
	if last := changes[len(changes)-1].(protocol.AgentStatusChange); last.Status != protocol.AgentOffline || last.By != boss {
		t.Fatalf("agent told: %+v", last)
	}
	// Back at the head: the next agent takes the requeued chat first.
	b := f.agent("b", "agent", 1)
	f.ready(b)
	if f.session(s.ID).AgentNo != b || f.session(later.ID).Status != protocol.SessionInQueue {
		t.Fatal("the requeued chat was not first")
	}
	// Its sockets stay: it may set itself ready again, by itself.
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: a, Status: protocol.AgentReady, By: a})
	if f.session(later.ID).AgentNo != a {
		t.Fatal("the agent back to ready got nothing")
	}
	changes = f.rec.find("a:"+a, protocol.EventAgentStatus)
	if last := changes[len(changes)-1].(protocol.AgentStatusChange); last.By != "" {
		t.Fatalf("its own change names someone: %+v", last)
	}
}

func TestSnapshotAndCoalescedMonitorRows(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 2)
	f.ready(a)
	f.visitor("u1", f.now)
	c := command.Command{Kind: command.MonitorSnapshot, ReplyTo: store.NewID()}
	f.handle(c)
	pics := f.rec.find("reply:"+c.ReplyTo, "reply")
	if len(pics) != 1 {
		t.Fatalf("%d snapshots", len(pics))
	}
	p := pics[0].(protocol.MonitorPicture)
	if !p.OK || len(p.Agents) != 1 || p.Agents[0].Users != 1 || p.Agents[0].Sockets != 1 || p.Agents[0].Status != protocol.AgentReady || p.Counters.Users != 1 {
		t.Fatalf("picture: %+v", p)
	}
	if err := f.svc.flushMonitors(f.ctx); err != nil {
		t.Fatal(err)
	}
	rows := f.rec.find("mon:o", protocol.EventMonitorAgents)
	if len(rows) != 1 {
		t.Fatalf("%d agent row messages after the first flush", len(rows))
	}
	// Nothing changed: nothing sent. A visitor waiting: the queue goes out.
	if err := f.svc.flushMonitors(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rec.find("mon:o", protocol.EventMonitorAgents)); n != 1 {
		t.Fatalf("unchanged rows sent again: %d", n)
	}
	f.visitor("u2", f.now)
	f.visitor("u3", f.now)
	if err := f.svc.flushMonitors(f.ctx); err != nil {
		t.Fatal(err)
	}
	qs := f.rec.find("mon:o", protocol.EventMonitorQueue)
	last := qs[len(qs)-1].(protocol.MonitorQueue)
	if last.Groups[""] != 1 || len(last.Queue) != 1 || last.Queue[0].UserID != "u3" || last.Queue[0].Num != 1 {
		t.Fatalf("queue: %+v", last)
	}
	if err := f.svc.sampleCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	samples, err := f.st.MonitorSamples(f.ctx, "o", f.now.Add(-time.Hour))
	if err != nil || len(samples) != 1 || samples[0].Users != 2 || samples[0].InQueue != 1 {
		t.Fatalf("samples %+v %v", samples, err)
	}
}
