package router

import (
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// transfer sends a transfer command and returns routing's answer.
func (f *fixture) transfer(c command.Command) protocol.TransferResult {
	f.t.Helper()
	c.Kind, c.ReplyTo = command.Transfer, store.NewID()
	f.handle(c)
	got := f.rec.find("reply:"+c.ReplyTo, "reply")
	if len(got) != 1 {
		f.t.Fatalf("%d answers to one transfer", len(got))
	}
	return got[0].(protocol.TransferResult)
}

func TestTransferToAnAgentTellsAllThree(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 1)
	f.ready(a)
	s := f.visitor("u", f.now)
	b := f.agent("b", "agent", 1)
	f.ready(b)
	res := f.transfer(command.Command{SessionID: s.ID, AgentID: b, Memo: "VIP, wants billing", By: a})
	if !res.OK || res.Session == nil || res.Session.AgentNo != b || res.Session.TransFrom != a {
		t.Fatalf("answer: %+v", res)
	}
	if got := f.session(s.ID); got.AgentNo != b || !got.Trans || got.TransMemo != "VIP, wants billing" {
		t.Fatalf("stored: %+v", got)
	}
	news := f.rec.find("a:"+b, protocol.EventNew)
	if len(news) != 1 || news[0].(protocol.SessionSummary).TransMemo != "VIP, wants billing" || news[0].(protocol.SessionSummary).TransFrom != a {
		t.Fatalf("target's new: %+v", news)
	}
	if outs := f.rec.find("a:"+a, protocol.EventTransOut); len(outs) != 1 {
		t.Fatalf("previous agent's transout: %+v", outs)
	}
	st := f.rec.find("v:u", protocol.EventStatus)
	if last := st[len(st)-1].(protocol.VisitorStatus); last.State != protocol.StateAssigned || last.AgentNo != b {
		t.Fatalf("visitor told: %+v", last)
	}
	// a has room again: the queue is served.
	s2 := f.visitor("u2", f.now)
	if f.session(s2.ID).AgentNo != a {
		t.Fatal("the freed agent did not take the next visitor")
	}
}

func TestTransferRespectsCapacityUnlessOverridden(t *testing.T) {
	f := newFixture(t, 0)
	a := f.agent("a", "agent", 1)
	b := f.agent("b", "agent", 1)
	f.ready(a)
	f.ready(b)
	s1, s2 := f.visitor("u1", f.now), f.visitor("u2", f.now.Add(time.Second))
	from, to := f.session(s1.ID).AgentNo, f.session(s2.ID).AgentNo
	res := f.transfer(command.Command{SessionID: s1.ID, AgentID: to})
	if res.OK || res.Error.Code != protocol.CodeConflict {
		t.Fatalf("transfer to a full agent: %+v", res)
	}
	if got := f.session(s1.ID); got.AgentNo != from {
		t.Fatal("a refused transfer moved the chat")
	}
	if res := f.transfer(command.Command{SessionID: s1.ID, AgentID: to, Override: true}); !res.OK {
		t.Fatalf("supervisor override: %+v", res)
	}
	if res := f.transfer(command.Command{SessionID: "nope", AgentID: to}); res.OK || res.Error.Code != protocol.CodeConflict {
		t.Fatalf("unknown session: %+v", res)
	}
	if res := f.transfer(command.Command{SessionID: s1.ID, AgentID: "nobody"}); res.OK || res.Error.Code != protocol.CodeNotFound {
		t.Fatalf("unknown agent: %+v", res)
	}
}

func TestTransferToAFullGroupWaitsAtItsHeadAndNotForTheSameAgent(t *testing.T) {
	f := newFixture(t, 0)
	sales := f.skill("Sales", 0)
	a := f.agentIn("a", 2, sales)
	s1 := f.agentIn("s1", 1, sales)
	f.ready(a)
	f.ready(s1)
	old := f.request(store.Session{UserID: "old", Skill: sales, CreatedAt: f.now.Add(-time.Hour)})
	if old.AgentNo != a {
		// Make a serve it: transfer it there first (a has room).
		if res := f.transfer(command.Command{SessionID: old.ID, AgentID: a}); !res.OK {
			t.Fatal(res.Error)
		}
	}
	blocker := f.request(store.Session{UserID: "b", Skill: sales})
	if got := f.session(blocker.ID).AgentNo; got != s1 {
		t.Fatalf("blocker went to %s", got)
	}
	waiting := f.request(store.Session{UserID: "w", Skill: sales, CreatedAt: f.now.Add(time.Second)})
	if got := f.session(waiting.ID).AgentNo; got != a {
		t.Fatalf("a should take the third: %s", got)
	}
	// a (2 chats, full) sends "old" to Sales: s1 is full, so it waits, at
	// the head, and a must not get it back although a now has room.
	res := f.transfer(command.Command{SessionID: old.ID, Skill: sales, Memo: "needs a specialist"})
	if !res.OK || !res.Queued {
		t.Fatalf("answer: %+v", res)
	}
	if got := f.session(old.ID); got.Status != protocol.SessionInQueue || got.AgentNo != "" {
		t.Fatalf("transferred chat: %+v", got)
	}
	late := f.request(store.Session{UserID: "late", Skill: sales, CreatedAt: f.now.Add(time.Minute)})
	if got := f.session(late.ID); got.AgentNo != a {
		t.Fatalf("a's freed place went to %q", got.AgentNo)
	}
	f.end(blocker.ID) // s1 frees up: the transferred chat goes first
	if got := f.session(old.ID); got.AgentNo != s1 {
		t.Fatalf("transferred chat after s1 freed up: %+v", got)
	}
}
