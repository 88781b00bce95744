package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// inService makes a chat of the demo agent.
func (e *env) inService(agentID string) store.Session {
	e.t.Helper()
	sess := store.Session{Orgi: demo.Tenant, AppID: demo.AppID, UserID: store.NewID()}
	if err := e.st.CreateSession(e.t.Context(), &sess); err != nil {
		e.t.Fatal(err)
	}
	err := e.st.Routing(e.t.Context(), 0, func(tx *store.RoutingTx) error {
		_, err := tx.AssignSessions([]store.Assignment{{SessionID: sess.ID, AgentNo: agentID}}, time.Now())
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return sess
}

// answerTransfers plays the routing service: it answers each transfer
// command with answer(command).
func (e *env) answerTransfers(answer func(command.Command) protocol.TransferResult) {
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	go func() {
		_ = e.cmds.Consume(ctx, func(_ context.Context, cs []command.Command) error {
			for _, c := range cs {
				if c.Kind == command.Transfer {
					data, _ := json.Marshal(answer(c))
					e.replies.Deliver(c.ReplyTo, data)
				}
			}
			return nil
		})
	}()
}

func TestTransferAsksRoutingAndReturnsItsAnswer(t *testing.T) {
	e := newEnv(t, 30)
	agentTok, admin := e.login("agent"), e.login("admin")
	var me struct{ ID string }
	var agents []map[string]any
	e.do("GET", "/api/v1/agents", agentTok, "", nil, &agents)
	for _, a := range agents {
		if a["nickname"] != nil && a["id"] != nil {
			if _, leaks := a["username"]; leaks {
				t.Fatalf("colleagues list shows usernames: %v", a)
			}
		}
	}
	if len(agents) != 1 { // the demo admin has no agent role
		t.Fatalf("colleagues: %v", agents)
	}
	me.ID = agents[0]["id"].(string)
	sess := e.inService(me.ID)
	e.answerTransfers(func(c command.Command) protocol.TransferResult {
		if c.AgentID == "full" {
			return protocol.TransferResult{Error: protocol.Errorf(protocol.CodeConflict, "the agent has no room")}
		}
		return protocol.TransferResult{OK: true, Session: &protocol.SessionSummary{AgentServiceID: c.SessionID, AgentNo: c.AgentID, TransMemo: c.Memo, TransFrom: me.ID}}
	})
	path := "/api/v1/sessions/" + sess.ID + "/transfer"
	var got protocol.TransferResult
	if r := e.do("POST", path, agentTok, "", map[string]any{"agentno": "other", "memo": " billing "}, &got); r.StatusCode != 200 ||
		!got.OK || got.Session.AgentNo != "other" || got.Session.TransMemo != "billing" {
		t.Fatalf("transfer: %d %+v", r.StatusCode, got)
	}
	var eb errBody
	if r := e.do("POST", path, agentTok, "", map[string]any{"agentno": "full"}, &eb); r.StatusCode != 409 || eb.Error.Code != protocol.CodeConflict {
		t.Fatalf("refused by routing: %d %+v", r.StatusCode, eb)
	}
	for _, bad := range []map[string]any{{}, {"agentno": "x", "skill": "y"}, {"agentno": "x", "memo": string(make([]rune, 513))}} {
		if r := e.do("POST", path, agentTok, "", bad, &eb); r.StatusCode != 400 {
			t.Fatalf("%v: %d", bad, r.StatusCode)
		}
	}
	if r := e.do("POST", path, agentTok, "", map[string]any{"agentno": "x", "override": true}, &eb); r.StatusCode != 403 {
		t.Fatalf("override by an agent: %d", r.StatusCode)
	}
	if r := e.do("POST", path, admin, "", map[string]any{"agentno": "full2", "override": true}, &got); r.StatusCode != 200 {
		t.Fatalf("override by an admin: %d", r.StatusCode)
	}
	if _, _, err := e.st.EndSession(t.Context(), sess.ID, "agent", time.Now()); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", path, agentTok, "", map[string]any{"agentno": "x"}, &eb); r.StatusCode != 409 {
		t.Fatalf("ended chat: %d", r.StatusCode)
	}
	var skills []map[string]any
	if r := e.do("GET", "/api/v1/skills", agentTok, "", nil, &skills); r.StatusCode != 200 || skills == nil {
		t.Fatalf("skills: %d %v", r.StatusCode, skills)
	}
}
