package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// TestInvitationOutcomes: an agent who is not ready cannot invite; a
// refusal and a chat routed to another agent are told to the inviter; every
// invitation's outcome is recorded (UCKeFu InviteRecord). The pre-chat
// question comes with the chat.
func TestInvitationOutcomes(t *testing.T) {
	for name, mysql := range map[string]bool{"sqlite": false, "mysql": true} {
		t.Run(name, func(t *testing.T) { invitationOutcomes(t, nodetest.Start(t, nodetest.Options{MySQL: mysql})) })
	}
}

func invitationOutcomes(t *testing.T, n *nodetest.Node) {
	ctx := context.Background()
	inviterID, inviter := n.Staff(demo.Tenant, "inviter", protocol.RoleAgent, 5)
	otherID, other := n.Staff(demo.Tenant, "other", protocol.RoleAgent, 5)
	inv := n.Record(protocol.NamespaceAgent, url.Values{"token": {inviter}})
	oth := n.Record(protocol.NamespaceAgent, url.Values{"token": {other}})
	status := func(token string, rec *nodetest.Recorder, s string) {
		t.Helper()
		mark := rec.Len()
		if resp := n.Do(http.MethodPut, "/api/v1/agent/status", token, map[string]string{"status": s}, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s: %d", s, resp.StatusCode)
		}
		rec.WaitFor(mark, protocol.EventAgentStatus, func(a json.RawMessage) bool { return hasField(a, "status", s) }, wait)
	}
	invite := func(userID string) (int, protocol.InviteSentAnswer) {
		t.Helper()
		var out protocol.InviteSentAnswer
		resp := n.Do(http.MethodPost, "/api/v1/visitors/"+demo.AppID+"/"+userID+"/invite", inviter, map[string]string{"message": "hi"}, &out)
		return resp.StatusCode, out
	}
	visitor := func(userID string) *nodetest.Recorder { return n.Record(protocol.NamespaceUser, n.Visitor(userID)) }
	record := func(id string) string {
		t.Helper()
		rows, err := n.Store.ListInvites(ctx, demo.Tenant, inviterID, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.ID == id {
				return r.Status + "/" + r.ServedBy
			}
		}
		t.Fatalf("invite %s not recorded", id)
		return ""
	}

	v1 := visitor("iv1")
	if code, _ := invite("iv1"); code != http.StatusConflict {
		t.Fatalf("invite while not ready: %d, want 409", code)
	}

	// Refused: the inviter hears of it.
	status(inviter, inv, protocol.AgentReady)
	code, sent := invite("iv1")
	if code != http.StatusOK || sent.InviteID == "" || sent.Status != protocol.InviteSent {
		t.Fatalf("invite: %d %+v", code, sent)
	}
	got := v1.WaitFor(0, protocol.EventInvite, nil, wait)
	if !hasField(got.Arg, "inviteid", sent.InviteID) {
		t.Fatalf("invite event without its id: %s", got.Arg)
	}
	mark := inv.Len()
	var ok protocol.OKAck
	v1.Ack(protocol.EventInvite, protocol.InviteAnswer{Accept: false}, &ok)
	res := inv.WaitFor(mark, protocol.EventInviteResult, nil, wait)
	if !hasField(res.Arg, "status", protocol.InviteRefused) || !hasField(res.Arg, "inviteid", sent.InviteID) {
		t.Fatalf("refusal: %s", res.Arg)
	}
	if got := record(sent.InviteID); got != "refused/" {
		t.Fatalf("refused invite recorded as %q", got)
	}

	// Accepted, served by the inviter.
	v2 := visitor("iv2")
	_, sent = invite("iv2")
	v2.Ack(protocol.EventInvite, protocol.InviteAnswer{Accept: true}, &ok)
	mark = inv.Len()
	var ack protocol.NewChatAck
	v2.Ack(protocol.EventNew, protocol.NewChat{Agent: inviterID, Memo: "Where is my order?"}, &ack)
	// The pre-chat question reaches the agent with the chat.
	got = inv.WaitFor(mark, protocol.EventNew, func(a json.RawMessage) bool { return hasField(a, "agentserviceid", ack.AgentServiceID) }, wait)
	if !hasField(got.Arg, "memo", "Where is my order?") {
		t.Fatalf("new without the visitor's question: %s", got.Arg)
	}
	if got := record(sent.InviteID); got != "served/"+inviterID {
		t.Fatalf("served invite recorded as %q", got)
	}

	// Accepted, but the inviter is not ready by then: the other agent serves
	// and the inviter is told who.
	v3 := visitor("iv3")
	_, sent = invite("iv3")
	v3.Ack(protocol.EventInvite, protocol.InviteAnswer{Accept: true}, &ok)
	status(inviter, inv, protocol.AgentNotReady)
	status(other, oth, protocol.AgentReady)
	mark = inv.Len()
	v3.Ack(protocol.EventNew, protocol.NewChat{Agent: inviterID}, &ack)
	res = inv.WaitFor(mark, protocol.EventInviteResult, nil, wait)
	if !hasField(res.Arg, "status", protocol.InviteRedirected) || !hasField(res.Arg, "servedby", otherID) || !hasField(res.Arg, "servedbyname", "other") {
		t.Fatalf("redirect: %s", res.Arg)
	}
	if got := record(sent.InviteID); got != "redirected/"+otherID {
		t.Fatalf("redirected invite recorded as %q", got)
	}
	var listed []struct {
		ID, Status string
	}
	if resp := n.Do(http.MethodGet, "/api/v1/invites", inviter, nil, &listed); resp.StatusCode != http.StatusOK || len(listed) != 3 || listed[0].Status != protocol.InviteRedirected {
		t.Fatalf("GET /invites: %d %+v", resp.StatusCode, listed)
	}
	if resp := n.Do(http.MethodGet, "/api/v1/invites?agent="+otherID, inviter, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent listing another's invites: %d, want 403", resp.StatusCode)
	}
}
