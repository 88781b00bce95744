package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
)

func chatMessage(raw json.RawMessage) protocol.ChatMessage {
	var m protocol.ChatMessage
	_ = json.Unmarshal(raw, &m)
	return m
}

func ofSession(id string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool { return hasField(raw, "agentserviceid", id) }
}

func say(t *testing.T, v *nodetest.Recorder, text string) protocol.MessageAck {
	t.Helper()
	var ack protocol.MessageAck
	v.Ack(protocol.EventMessage, protocol.SendMessage{Type: "message", MsgType: "text", Message: text, ClientID: text}, &ack)
	if !ack.OK {
		t.Fatalf("send %q refused", text)
	}
	return ack
}

// none asserts that m got no event named name for session id among events
// before index upTo (a later event in the same room proves it would have).
func none(t *testing.T, who string, m *member, from, upTo int, name, id string) {
	t.Helper()
	evs := m.sock.Events()
	for _, e := range evs[from:min(upTo, len(evs))] {
		if e.Name == name && hasField(e.Arg, "agentserviceid", id) {
			t.Errorf("%s got %s of %s: %s", who, name, id, e.Arg)
		}
	}
}

// TestMirrorsFollowTheScope: supervisors get a chat's events (assigned,
// messages, read marks, whispers, ratings, the end) only when their scope
// covers it, and an agent never gets its own chat's mirror, though it
// supervises the group.
func TestMirrorsFollowTheScope(t *testing.T) {
	tm := newTeam(t)
	for _, m := range []*member{tm.supA, tm.supB, tm.lead} {
		tm.monitorOn(m)
	}
	markA, markB, markLead := tm.supA.sock.Len(), tm.supB.sock.Len(), tm.lead.sock.Len()
	chatA, visA := tm.chat(tm.a, tm.agentA)
	tm.supA.sock.WaitFor(markA, protocol.EventAuditNew, ofSession(chatA), wait)
	say(t, visA, "hello A")
	tm.supA.sock.WaitFor(markA, protocol.EventAuditMessage, ofSession(chatA), wait)
	// The lead serves one of A's chats: supA sees it, the lead does not.
	chatLead, visLead := tm.chat(tm.a, tm.lead)
	say(t, visLead, "hello lead")
	tm.supA.sock.WaitFor(markA, protocol.EventAuditMessage, ofSession(chatLead), wait)
	// Later messages in the same room prove what would have come before
	// them: B's chat reaches supB after A's would have, and A's next
	// message reaches the lead after its own chat's would have.
	chatB, visB := tm.chat(tm.b, tm.agentB)
	say(t, visB, "hello B")
	say(t, visA, "still A")
	tm.supB.sock.WaitFor(markB, protocol.EventAuditMessage, ofSession(chatB), wait)
	tm.lead.sock.WaitFor(markLead, protocol.EventAuditMessage, func(raw json.RawMessage) bool { return hasField(raw, "message", "still A") }, wait)
	upToB, upToLead := tm.supB.sock.Len(), tm.lead.sock.Len()
	for _, ev := range []string{protocol.EventAuditNew, protocol.EventAuditMessage} {
		none(t, "supervisor B", tm.supB, markB, upToB, ev, chatA)
		none(t, "the lead", tm.lead, markLead, upToLead, ev, chatLead)
	}

	// A read mark, a whisper, the end, a rating.
	markA = tm.supA.sock.Len()
	var read protocol.ReadMark
	if c := tm.do(http.MethodPost, "/api/v1/sessions/"+chatA+"/read", tm.agentA.token, map[string]int{"seq": 1}, &read); c != http.StatusOK {
		t.Fatalf("read: %d", c)
	}
	got := tm.supA.sock.WaitFor(markA, protocol.EventAuditRead, ofSession(chatA), wait)
	if err := json.Unmarshal(got.Arg, &read); err != nil || read.ReadSeq != 1 || read.Unread != 1 { // "still A" is unread
		t.Fatalf("audit_read: %s", got.Arg)
	}
	markAgent := tm.agentA.sock.Len()
	if c := tm.emit(tm.lead, protocol.EventWhisper, protocol.WhisperRequest{AgentServiceID: chatA, Message: "offer the discount", ClientID: "w1"}); c != http.StatusOK {
		t.Fatalf("whisper: %d", c)
	}
	w := tm.agentA.sock.WaitFor(markAgent, protocol.EventWhisper, ofSession(chatA), wait)
	if !hasField(w.Arg, "message", "offer the discount") || !hasField(w.Arg, "userid", tm.lead.id) {
		t.Fatalf("whisper to the agent: %s", w.Arg)
	}
	tm.supA.sock.WaitFor(markA, protocol.EventAuditWhisper, ofSession(chatA), wait)
	for _, e := range visA.Events() {
		if e.Name == protocol.EventWhisper || (e.Name == protocol.EventMessage && hasField(e.Arg, "message", "offer the discount")) {
			t.Fatalf("the visitor saw a whisper: %s", e.Arg)
		}
	}
	if c := tm.do(http.MethodPost, "/api/v1/sessions/"+chatA+"/end", tm.agentA.token, nil, nil); c != http.StatusOK {
		t.Fatalf("end: %d", c)
	}
	end := tm.supA.sock.WaitFor(markA, protocol.EventAuditEnd, ofSession(chatA), wait)
	if !hasField(end.Arg, "endby", "agent") {
		t.Fatalf("audit_end: %s", end.Arg)
	}
	var ok protocol.OKAck
	visA.Ack(protocol.EventSatisfaction, protocol.Satisfaction{AgentServiceID: chatA, Level: 4}, &ok)
	if r := tm.supA.sock.WaitFor(markA, protocol.EventAuditRating, ofSession(chatA), wait); !hasField(r.Arg, "level", "4") {
		t.Fatalf("audit_rating: %s", r.Arg)
	}
	// The transcript's events.
	evs, err := tm.n.Store.SessionEvents(context.Background(), chatA)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if fmt.Sprint(kinds) != "[queued assigned ended rated]" {
		t.Fatalf("events: %v", kinds)
	}
}

// TestInterveneIsStoredMarkedAndSeenByBoth: a supervisor's message takes
// the chat's next seq, reaches the visitor under the supervisor's name and
// the agent marked as an intervention, and the first one is `joined`.
func TestInterveneIsStoredMarkedAndSeenByBoth(t *testing.T) {
	tm := newTeam(t)
	chat, vis := tm.chat(tm.a, tm.agentA)
	say(t, vis, "is anyone there?")
	markV, markAgent := vis.Len(), tm.agentA.sock.Len()
	var ack protocol.MessageAck
	tm.supA.sock.Ack(protocol.EventIntervene, protocol.SendMessage{AgentServiceID: chat, Type: "message", MsgType: "text", Message: "I am the supervisor", ClientID: "i1"}, &ack)
	if !ack.OK || ack.Seq != 2 {
		t.Fatalf("intervene ack: %+v", ack)
	}
	second := func(raw json.RawMessage) bool { return chatMessage(raw).Seq == 2 }
	atVisitor := chatMessage(vis.WaitFor(markV, protocol.EventMessage, second, wait).Arg)
	atAgent := chatMessage(tm.agentA.sock.WaitFor(markAgent, protocol.EventMessage, second, wait).Arg)
	for _, m := range []protocol.ChatMessage{atVisitor, atAgent} {
		if m.Seq != 2 || !m.Intervened || m.CallType != protocol.CallTypeOut || m.UserID != tm.supA.id || m.Username != "" {
			t.Fatalf("intervention as delivered: %+v", m)
		}
	}
	// A resend stores nothing more.
	tm.supA.sock.Ack(protocol.EventIntervene, protocol.SendMessage{AgentServiceID: chat, Type: "message", MsgType: "text", Message: "I am the supervisor", ClientID: "i1"}, &ack)
	tm.supA.sock.Ack(protocol.EventIntervene, protocol.SendMessage{AgentServiceID: chat, Type: "message", MsgType: "text", Message: "again", ClientID: "i2"}, &ack)
	if ack.Seq != 3 {
		t.Fatalf("after a resend, the next seq is %d", ack.Seq)
	}
	evs, _ := tm.n.Store.SessionEvents(context.Background(), chat)
	joined := 0
	for _, e := range evs {
		if e.Kind == protocol.SessionJoined && e.Actor == tm.supA.id {
			joined++
		}
	}
	if joined != 1 {
		t.Fatalf("%d joined events for two interventions", joined)
	}
	// Not into a chat that is not in service, nor one's own.
	if c := tm.emit(tm.agentA, protocol.EventIntervene, protocol.SendMessage{AgentServiceID: chat, Type: "message", MsgType: "text", Message: "x", ClientID: "i3"}); c != http.StatusForbidden {
		t.Fatalf("an agent intervenes: %d", c)
	}
}

// TestWatchHistoryThenLiveNoGapNoDuplicate: a supervisor who opens busy
// chats late gets each one's latest history, then every later message once,
// in order, whatever was in flight when it opened it.
func TestWatchHistoryThenLiveNoGapNoDuplicate(t *testing.T) {
	tm := newTeam(t)
	tm.monitorOn(tm.supA)
	const chats, total = 4, 300
	type busy struct {
		id   string
		vis  *nodetest.Recorder
		sent chan int
	}
	var all []busy
	for range chats {
		id, vis := tm.chat(tm.a, tm.spareA)
		all = append(all, busy{id, vis, make(chan int, total)})
	}
	var wg sync.WaitGroup
	for _, b := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(b.sent)
			for i := 1; i <= total; i++ {
				var ack protocol.MessageAck
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				raw, err := b.vis.Call(ctx, protocol.EventMessage, protocol.SendMessage{Type: "message", MsgType: "text", Message: fmt.Sprint("m", i), ClientID: fmt.Sprint("c", i)})
				cancel()
				if err != nil || json.Unmarshal(raw, &ack) != nil || !ack.OK {
					t.Errorf("send %d: %v %s", i, err, raw)
					return
				}
				b.sent <- i
			}
		}()
	}
	marks := make([]int, chats)
	for k, b := range all {
		// Open chat k once it has 60+k*50 messages, the others writing on.
		for i := range b.sent {
			if i == 60+k*50 {
				break
			}
		}
		marks[k] = tm.supA.sock.Len()
		if c := tm.emit(tm.supA, protocol.EventWatch, protocol.WatchRequest{AgentServiceID: b.id, On: true}); c != http.StatusOK {
			t.Fatalf("watch: %d", c)
		}
	}
	wg.Wait()
	for k, b := range all {
		tm.supA.sock.WaitFor(marks[k], protocol.EventAuditMessage, func(raw json.RawMessage) bool {
			m := chatMessage(raw)
			return m.AgentServiceID == b.id && m.Seq == total
		}, wait)
		evs := tm.supA.sock.Events()[marks[k]:]
		var seqs []int64
		histAt := -1
		for i, e := range evs {
			if e.Name == protocol.EventAuditHistory && hasField(e.Arg, "agentserviceid", b.id) {
				var h protocol.AuditHistory
				if err := json.Unmarshal(e.Arg, &h); err != nil {
					t.Fatal(err)
				}
				for _, m := range h.Messages {
					seqs = append(seqs, m.Seq)
				}
				histAt = i
				break
			}
		}
		if histAt < 0 || len(seqs) == 0 {
			t.Fatalf("chat %d: no history", k)
		}
		for _, e := range evs[histAt+1:] {
			if m := chatMessage(e.Arg); e.Name == protocol.EventAuditMessage && m.AgentServiceID == b.id {
				seqs = append(seqs, m.Seq)
			}
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Fatalf("chat %d: after %d comes %d (history from %d): a gap or a repeat", k, seqs[i-1], seqs[i], seqs[0])
			}
		}
		if last := seqs[len(seqs)-1]; last != total {
			t.Fatalf("chat %d ends at %d of %d", k, last, total)
		}
	}
}
