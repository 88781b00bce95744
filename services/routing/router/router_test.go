package router

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
)

type sent struct {
	to, event string
	v         any
}

// recorder is an Emitter that remembers what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []sent
}

func (r *recorder) add(to, event string, v any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, sent{to, event, v})
	return nil
}
func (r *recorder) ToVisitor(_ context.Context, appID, userID, event string, v any) error {
	return r.add("v:"+userID, event, v)
}
func (r *recorder) ToAgent(_ context.Context, agentID, event string, v any) error {
	return r.add("a:"+agentID, event, v)
}
func (r *recorder) ToTenantAgents(_ context.Context, orgi, event string, v any) error {
	return r.add("t:"+orgi, event, v)
}

func (r *recorder) AskGatewaysToAnnounce(context.Context) error {
	return r.add("gateways", "announce", nil)
}

func (r *recorder) Batch() (Announcer, func(context.Context) error) {
	return r, func(context.Context) error { return nil }
}

func (r *recorder) ToRoom(_ context.Context, namespace, room, event string, v any, _ string) error {
	return r.add(namespace+" "+room, event, v)
}

func (r *recorder) Reply(_ context.Context, replyTo string, v any) error {
	return r.add("reply:"+replyTo, "reply", v)
}

func (r *recorder) ToMonitors(_ context.Context, orgi, event string, _ protocol.Mirror, v any) error {
	return r.add("mon:"+orgi, event, v)
}

func (r *recorder) find(to, event string) []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []any
	for _, s := range r.sent {
		if s.to == to && s.event == event {
			out = append(out, s.v)
		}
	}
	return out
}

type fixture struct {
	t   *testing.T
	ctx context.Context
	st  *store.Store
	rec *recorder
	svc *Service
	now time.Time
}

func newFixture(t *testing.T, tenantMax int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	st := storetest.SQLiteAt(t, func() time.Time { return f.now })
	if err := st.CreateTenant(ctx, &store.Tenant{ID: "o", Name: "O", MaxUser: tenantMax}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	f.st, f.rec = st, rec
	f.svc = New(st, rec, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{AgentGrace: 20 * time.Second})
	f.svc.now = func() time.Time { return f.now }
	return f
}

// advance moves the clock and runs the timers, as Run's ticker would.
func (f *fixture) advance(d time.Duration) {
	f.t.Helper()
	f.now = f.now.Add(d)
	if err := f.svc.tick(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) connect(agentID, socketID string) {
	f.handle(command.Command{Kind: command.AgentConnected, AgentID: agentID, SocketID: socketID, Node: "gw1"})
}

func (f *fixture) disconnect(socketID string) {
	f.handle(command.Command{Kind: command.AgentDisconnected, SocketID: socketID, Node: "gw1"})
}

func (f *fixture) agent(name, roles string, maxUser int) string {
	f.t.Helper()
	a := &store.Agent{Orgi: "o", Username: name, PasswordHash: "x", Nickname: name, Roles: roles, MaxUser: maxUser}
	if err := f.st.CreateAgent(f.ctx, a, nil); err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

func (f *fixture) handle(c command.Command) {
	f.t.Helper()
	c.ID, c.Orgi = store.NewID(), "o"
	if err := f.svc.Handle(f.ctx, []command.Command{c}); err != nil {
		f.t.Fatal(err)
	}
}

// ready connects one socket of the agent and makes it ready.
func (f *fixture) ready(agentID string) {
	f.connect(agentID, "sock-"+agentID)
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: agentID, Status: protocol.AgentReady})
}

func (f *fixture) visitor(user string, created time.Time) store.Session {
	f.t.Helper()
	s := store.Session{Orgi: "o", AppID: "app", UserID: user, CreatedAt: created}
	if err := f.st.CreateSession(f.ctx, &s); err != nil {
		f.t.Fatal(err)
	}
	f.handle(command.Command{Kind: command.VisitorRequest, SessionID: s.ID})
	return s
}

func (f *fixture) session(id string) store.Session {
	f.t.Helper()
	s, err := f.st.GetSession(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func TestAssignsLeastLoadedReadyAgentAndTellsBoth(t *testing.T) {
	f := newFixture(t, 0)
	a1 := f.agent("a1", "agent", 0)
	a2 := f.agent("a2", "agent", 0)
	f.agent("boss", "admin,supervisor", 0) // never routed to
	f.ready(a1)
	f.ready(a2)
	t0 := time.Now().Add(-time.Minute)
	s1 := f.visitor("u1", t0)
	s2 := f.visitor("u2", t0.Add(time.Second))
	got1, got2 := f.session(s1.ID), f.session(s2.ID)
	if got1.Status != protocol.SessionInService || got2.Status != protocol.SessionInService {
		t.Fatalf("not assigned: %s %s", got1.Status, got2.Status)
	}
	if got1.AgentNo == got2.AgentNo {
		t.Fatalf("both visitors went to %s; least-loaded should spread them", got1.AgentNo)
	}
	st := f.rec.find("v:u1", protocol.EventStatus)
	if len(st) != 1 || st[0].(protocol.VisitorStatus).State != protocol.StateAssigned || st[0].(protocol.VisitorStatus).AgentNo != got1.AgentNo {
		t.Fatalf("visitor status: %+v", st)
	}
	news := f.rec.find("a:"+got1.AgentNo, protocol.EventNew)
	if len(news) != 1 || news[0].(protocol.SessionSummary).AgentServiceID != s1.ID {
		t.Fatalf("agent new: %+v", news)
	}
}

func TestNoAgentThenDrainFIFOWithinCapacity(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 2)
	t0 := time.Now().Add(-time.Hour)
	var sess []store.Session
	for i := range 4 {
		sess = append(sess, f.visitor(fmt.Sprintf("u%d", i), t0.Add(time.Duration(i)*time.Second)))
	}
	st := f.rec.find("v:u0", protocol.EventStatus)
	if len(st) != 1 || st[0].(protocol.VisitorStatus).State != protocol.StateNoAgent {
		t.Fatalf("with nobody ready the visitor hears noagent: %+v", st)
	}
	if n := st[0].(protocol.VisitorStatus).Num; n == nil || *n != 1 {
		t.Fatalf("position: %v", n)
	}
	if st := f.rec.find("v:u3", protocol.EventStatus); *st[0].(protocol.VisitorStatus).Num != 4 {
		t.Fatalf("fourth visitor's position: %+v", st[0])
	}
	f.ready(a)
	for i, s := range sess {
		want := protocol.SessionInQueue
		if i < 2 {
			want = protocol.SessionInService // the two oldest, capacity 2
		}
		if got := f.session(s.ID).Status; got != want {
			t.Fatalf("visitor %d: %s, want %s", i, got, want)
		}
	}
	// Those still waiting hear their new positions.
	st = f.rec.find("v:u3", protocol.EventStatus)
	if last := st[len(st)-1].(protocol.VisitorStatus); last.State != protocol.StateQueued || *last.Num != 2 {
		t.Fatalf("u3 after drain: %+v", last)
	}
	// Ending one frees capacity: the next oldest is served, not the newest.
	f.end(sess[0].ID)
	if f.session(sess[2].ID).Status != protocol.SessionInService || f.session(sess[3].ID).Status != protocol.SessionInQueue {
		t.Fatal("queue not drained in FIFO order")
	}
}

func TestBusyAndNotReadyAgentsAreSkipped(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	f.ready(a)
	busy := true
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: a, Busy: &busy})
	s := f.visitor("u", time.Now())
	if f.session(s.ID).Status != protocol.SessionInQueue {
		t.Fatal("busy agent got a visitor")
	}
	notBusy := false
	f.handle(command.Command{Kind: command.AgentStatus, AgentID: a, Busy: &notBusy})
	if f.session(s.ID).Status != protocol.SessionInService {
		t.Fatal("queue not drained when the agent stopped being busy")
	}
}

func TestRepeatedCommandsAreHarmless(t *testing.T) {
	f := newFixture(t, 1)
	a := f.agent("a", "agent", 0) // tenant capacity 1
	f.ready(a)
	s := f.visitor("u", time.Now())
	f.handle(command.Command{Kind: command.VisitorRequest, SessionID: s.ID})
	f.handle(command.Command{Kind: command.VisitorRequest, SessionID: "no-such-session"})
	if n := len(f.rec.find("a:"+a, protocol.EventNew)); n != 1 {
		t.Fatalf("agent told %d times about one visitor", n)
	}
	s2 := f.visitor("u2", time.Now())
	if f.session(s2.ID).Status != protocol.SessionInQueue {
		t.Fatal("tenant capacity 1 exceeded")
	}
	if err := f.svc.flushCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	counters := f.rec.find("t:o", protocol.EventStatus)
	last := counters[len(counters)-1].(protocol.AgentCounters)
	if last.Agents != 1 || last.Users != 1 || last.InQueue != 1 {
		t.Fatalf("counters: %+v", last)
	}
}

func TestCountersAreCoalesced(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 5)
	f.ready(a)
	for i := range 20 {
		f.visitor(fmt.Sprint("burst", i), f.now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(f.rec.find("t:o", protocol.EventStatus)); n != 0 {
		t.Fatalf("%d counter events before the flush; a burst must not be a storm", n)
	}
	if err := f.svc.flushCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	got := f.rec.find("t:o", protocol.EventStatus)
	if len(got) != 1 {
		t.Fatalf("%d counter events for one flush, want 1", len(got))
	}
	if c := got[0].(protocol.AgentCounters); c.Agents != 1 || c.Users != 5 || c.InQueue != 15 {
		t.Fatalf("counters %+v; want 1 agent, 5 served, 15 waiting", c)
	}
	if err := f.svc.flushCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rec.find("t:o", protocol.EventStatus)); n != 1 {
		t.Fatal("a flush with no change sent counters again")
	}
}

func TestANewTabOfAnOnlineAgentGetsTheCounters(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 5)
	f.connect(a, "tab1")
	f.ready(a)
	if err := f.svc.flushCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	before := len(f.rec.find("t:o", protocol.EventStatus))
	f.connect(a, "tab2")
	if err := f.svc.flushCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	got := f.rec.find("t:o", protocol.EventStatus)
	if len(got) != before+1 {
		t.Fatalf("%d counter events after a second tab opened, want %d", len(got), before+1)
	}
	if c := got[len(got)-1].(protocol.AgentCounters); c.Agents != 1 {
		t.Fatalf("counters %+v; want the one ready agent", c)
	}
	f.connect(a, "tab2") // the same socket announced again (a heartbeat): nothing new
	if err := f.svc.flushCounters(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rec.find("t:o", protocol.EventStatus)); n != before+1 {
		t.Fatalf("a repeated announcement sent counters again (%d events)", n)
	}
}
