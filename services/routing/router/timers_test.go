package router

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// say stores a message in the session, as the gateway does.
func (f *fixture) say(sessionID, callType string) {
	f.t.Helper()
	if _, _, err := f.st.AppendMessage(f.ctx, &store.Message{SessionID: sessionID, Type: protocol.TypeMessage, MsgType: "text", CallType: callType, Body: "hi"}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) systemTexts(user string) []string {
	var out []string
	for _, m := range f.rec.find("v:"+user, protocol.EventMessage) {
		if c := m.(protocol.ChatMessage); c.CallType == protocol.CallTypeSystem {
			out = append(out, c.Message)
		}
	}
	return out
}

func lastStatus(f *fixture, user string) protocol.VisitorStatus {
	f.t.Helper()
	st := f.rec.find("v:"+user, protocol.EventStatus)
	if len(st) == 0 {
		f.t.Fatalf("visitor %s told nothing", user)
	}
	return st[len(st)-1].(protocol.VisitorStatus)
}

func TestQueueTimeoutEndsTheWait(t *testing.T) {
	f := newFixture(t, 0)
	f.config(store.SessionConfig{Lang: prompt.English, SessionTimers: store.SessionTimers{QueueTimeout: 60}})
	s := f.visitor("u", f.now)
	f.advance(59 * time.Second)
	if f.session(s.ID).Status != protocol.SessionInQueue {
		t.Fatal("ended before the queue timeout")
	}
	f.advance(6 * time.Second) // the next 5-second scan
	got := f.session(s.ID)
	if got.Status != protocol.SessionEnd || got.EndBy != protocol.EndByQueue {
		t.Fatalf("after the queue timeout: %s by %q", got.Status, got.EndBy)
	}
	if st := lastStatus(f, "u"); st.MessageType != "end" || st.Message != prompt.New(prompt.English, "").Text(prompt.QueueTimeout, "", 0) {
		t.Fatalf("visitor told: %+v", st)
	}
}

func TestIdleVisitorIsWarnedThenClosed(t *testing.T) {
	f := newFixture(t, 0)
	f.config(store.SessionConfig{Prompts: `{"timeoutmsg":"Still there?"}`, SessionTimers: store.SessionTimers{VisitorIdleWarn: 120, VisitorIdleClose: 60}})
	a := f.agent("a", "agent", 0)
	f.ready(a)
	s := f.visitor("u", f.now)
	f.advance(100 * time.Second)
	f.say(s.ID, protocol.CallTypeIn) // at the store's clock, now: the idle time restarts
	f.advance(110 * time.Second)
	if got := f.systemTexts("u"); len(got) != 0 {
		t.Fatalf("warned too early: %v", got)
	}
	f.advance(3 * time.Minute)
	if got := f.systemTexts("u"); len(got) != 1 || got[0] != "Still there?" {
		t.Fatalf("warning: %v", got)
	}
	if msgs := f.rec.find("a:"+a, protocol.EventMessage); len(msgs) != 1 {
		t.Fatal("the agent did not see the warning")
	}
	f.advance(time.Minute)
	got := f.session(s.ID)
	if got.Status != protocol.SessionEnd || got.EndBy != protocol.EndByTimeout {
		t.Fatalf("after warning and close: %s by %q", got.Status, got.EndBy)
	}
	if ends := f.rec.find("a:"+a, protocol.EventEnd); len(ends) != 1 {
		t.Fatal("agent not told of the end")
	}
	if got := f.systemTexts("u"); len(got) != 1 {
		t.Fatalf("warned again: %v", got)
	}
}

func TestAgentNoReplyNoticeOncePerWait(t *testing.T) {
	f := newFixture(t, 0)
	f.config(store.SessionConfig{SessionTimers: store.SessionTimers{AgentNoReply: 30}})
	a := f.agent("a", "agent", 0)
	f.ready(a)
	s := f.visitor("u", f.now)
	f.say(s.ID, protocol.CallTypeIn)
	f.advance(35 * time.Second)
	f.advance(35 * time.Second)
	want := prompt.New("", "").Text(prompt.AgentNoReply, "", 0)
	if got := f.systemTexts("u"); len(got) != 1 || got[0] != want {
		t.Fatalf("notices: %v", got)
	}
	f.say(s.ID, protocol.CallTypeOut) // the agent answers
	f.advance(time.Minute)
	f.say(s.ID, protocol.CallTypeIn) // and the visitor asks again
	f.advance(35 * time.Second)
	if got := f.systemTexts("u"); len(got) != 2 {
		t.Fatalf("second wait: %v", got)
	}
}

func TestOffHoursEndAtOnceWithTheOffHoursText(t *testing.T) {
	f := newFixture(t, 0) // tenant time zone UTC; the clock is 09:00
	f.config(store.SessionConfig{Lang: prompt.English, SessionTimers: store.SessionTimers{WorkingHours: "10:00~18:00"}})
	a := f.agent("a", "agent", 0)
	f.ready(a)
	s := f.visitor("u", f.now)
	if got := f.session(s.ID); got.Status != protocol.SessionEnd || got.EndBy != protocol.EndBySystem {
		t.Fatalf("off hours: %+v", got)
	}
	if st := lastStatus(f, "u"); st.State != protocol.StateOffHours {
		t.Fatalf("visitor told: %+v", st)
	}
	f.now = f.now.Add(time.Hour)
	if s2 := f.visitor("u2", f.now); f.session(s2.ID).AgentNo != a {
		t.Fatal("not served within working hours")
	}
}

func TestVisitorLeavingEndsTheChatAfterGraceUnlessBack(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	f.ready(a)
	s := f.visitor("u", f.now)
	presence := func(kind, socket string) {
		f.handle(command.Command{Kind: kind, SessionID: s.ID, SocketID: socket, Node: "gw1"})
	}
	presence(command.VisitorJoined, "v1")
	presence(command.VisitorJoined, "v2") // a second tab
	presence(command.VisitorLeft, "v1")
	f.advance(time.Hour)
	if f.session(s.ID).Status != protocol.SessionInService {
		t.Fatal("ended while a tab was open")
	}
	presence(command.VisitorLeft, "v2")
	f.advance(20 * time.Second)
	presence(command.VisitorJoined, "v3") // a page reload
	f.advance(time.Hour)
	if f.session(s.ID).Status != protocol.SessionInService {
		t.Fatal("a page reload ended the chat")
	}
	presence(command.VisitorLeft, "v3")
	f.advance(DefaultVisitorGrace)
	if got := f.session(s.ID); got.Status != protocol.SessionEnd || got.EndBy != protocol.EndByUser {
		t.Fatalf("visitor gone: %+v", got)
	}
	if ends := f.rec.find("a:"+a, protocol.EventEnd); len(ends) != 1 {
		t.Fatal("agent not told")
	}
}

func TestStaleLeaderIsFenced(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 0)
	newer := New(f.st, f.rec, f.svc.log, Options{Token: 7})
	if err := newer.Handle(f.ctx, []command.Command{{ID: "c1", Kind: command.AgentStatus, Orgi: "o", AgentID: a, Status: protocol.AgentReady}}); err != nil {
		t.Fatal(err)
	}
	stale := New(f.st, f.rec, f.svc.log, Options{Token: 6})
	err := stale.Handle(f.ctx, []command.Command{{ID: "c2", Kind: command.AgentStatus, Orgi: "o", AgentID: a, Status: protocol.AgentNotReady}})
	if !errors.Is(err, store.ErrFenced) {
		t.Fatalf("stale leader's batch: %v", err)
	}
	if st, _ := f.st.GetAgentState(context.Background(), a); st.Status != protocol.AgentReady {
		t.Fatalf("stale leader wrote: %s", st.Status)
	}
}

func TestOneBatchManyVisitorsWithinCapacity(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 2)
	b := f.agent("b", "agent", 3)
	f.ready(a)
	f.ready(b)
	var cs []command.Command
	var sess []store.Session
	for i := range 8 {
		s := store.Session{Orgi: "o", AppID: "app", UserID: string(rune('a' + i)), CreatedAt: f.now.Add(time.Duration(i) * time.Second)}
		if err := f.st.CreateSession(f.ctx, &s); err != nil {
			t.Fatal(err)
		}
		sess = append(sess, s)
		cs = append(cs, command.Command{ID: store.NewID(), Kind: command.VisitorRequest, Orgi: "o", SessionID: s.ID})
	}
	// The last visitor leaves before routing reads the batch.
	if _, _, err := f.st.EndSession(f.ctx, sess[7].ID, "user", f.now); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Handle(f.ctx, cs); err != nil {
		t.Fatal(err)
	}
	load := map[string]int{}
	for i, s := range sess[:7] {
		got := f.session(s.ID)
		if i < 5 && got.Status != protocol.SessionInService {
			t.Fatalf("visitor %d (of the first five) not served: %s", i, got.Status)
		}
		if i >= 5 && got.Status != protocol.SessionInQueue {
			t.Fatalf("visitor %d served beyond capacity", i)
		}
		load[got.AgentNo]++
	}
	if load[a] != 2 || load[b] != 3 {
		t.Fatalf("load %v", load)
	}
	if n := *lastStatus(f, "g").Num; n != 2 {
		t.Fatalf("seventh visitor's position %d", n)
	}
	if st := f.rec.find("v:h", protocol.EventStatus); len(st) != 0 {
		t.Fatalf("the visitor who left was told %+v", st)
	}
}
