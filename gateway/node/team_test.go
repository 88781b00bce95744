package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// wait bounds every wait of these tests for an event that must come.
const wait = 10 * time.Second

// team is a tenant set up for supervision tests: skill groups A (with a
// child A1) and B, each with a child group nobody serves (its visitors
// wait), agents serving A and B, and staff of several kinds.
type team struct {
	t                *testing.T
	n                *nodetest.Node
	admin            string // the demo admin's token
	a, a1, b, qa, qb string // group ids
	visitors         atomic.Int64
	agentA, agentB   *member // role agent, serving A and B
	supA, supB, audA *member // supervisors of A and B; a read-only "auditor" of A
	lead             *member // agent and supervisor of A: serves and supervises
	boss             *member // the demo admin, with a socket
	other            *member // an admin of another tenant
	spareA, spareB   *member // ready agents of A and B with room, transfer targets
	spareCap         int
	nextAgent        atomic.Int64
	password         string
}

// member is a staff member with a token and an /im/agent socket.
type member struct {
	id, token string
	sock      *nodetest.Recorder
}

func newTeam(t *testing.T) *team {
	t.Helper()
	n := nodetest.Start(t, nodetest.Options{})
	tm := &team{t: t, n: n, admin: n.Admin(), spareCap: 100}
	tm.a = tm.group("A", "")
	tm.a1 = tm.group("A1", tm.a)
	tm.b = tm.group("B", "")
	tm.qa = tm.group("A-queue", tm.a)
	tm.qb = tm.group("B-queue", tm.b)
	if code := tm.do(http.MethodPut, "/api/v1/admin/roles/auditor", tm.admin, map[string]any{"rights": []string{"read"}}, nil); code != http.StatusOK {
		t.Fatalf("define auditor: %d", code)
	}
	// Through the admin API once: a tenant's own role is assignable.
	if code := tm.do(http.MethodPost, "/api/v1/admin/agents", tm.admin, map[string]any{
		"username": "auditor1", "password": "auditor-pass-1", "roles": []string{"auditor"}, "skills": []string{tm.a},
	}, nil); code != http.StatusCreated {
		t.Fatalf("create an auditor: %d", code)
	}
	if code := tm.do(http.MethodPost, "/api/v1/admin/agents", tm.admin, map[string]any{
		"username": "nobody1", "password": "nobody-pass-1", "roles": []string{"undefined-role"},
	}, nil); code != http.StatusBadRequest {
		t.Fatalf("an undefined role: %d", code)
	}
	tm.agentA = tm.member("agent", 0, true, tm.a)
	tm.agentB = tm.member("agent", 0, true, tm.b)
	tm.spareA = tm.member("agent", tm.spareCap, true, tm.a)
	tm.spareB = tm.member("agent", tm.spareCap, true, tm.b)
	tm.supA = tm.member("supervisor", 0, false, tm.a)
	tm.supB = tm.member("supervisor", 0, false, tm.b)
	tm.audA = tm.member("auditor", 0, false, tm.a)
	tm.lead = tm.member("agent,supervisor", 0, true, tm.a)
	tm.boss = &member{token: tm.admin}
	tm.boss.id = tm.adminID()
	tm.boss.sock = n.Record(protocol.NamespaceAgent, url.Values{"token": {tm.admin}})
	tm.other = tm.otherTenantAdmin()
	return tm
}

func (tm *team) do(method, path, token string, body, out any) int {
	tm.t.Helper()
	return tm.n.Do(method, path, token, body, out).StatusCode
}

func (tm *team) group(name, parent string) string {
	tm.t.Helper()
	var g struct{ ID string }
	if code := tm.do(http.MethodPost, "/api/v1/admin/skills", tm.admin, map[string]any{"name": name, "parent": parent}, &g); code != http.StatusCreated {
		tm.t.Fatalf("create group %s: %d", name, code)
	}
	return g.ID
}

func (tm *team) adminID() string {
	tm.t.Helper()
	var rows []struct {
		ID, Username string
	}
	tm.do(http.MethodGet, "/api/v1/admin/agents", tm.admin, nil, &rows)
	for _, r := range rows {
		if r.Username == "admin" {
			return r.ID
		}
	}
	tm.t.Fatal("no demo admin")
	return ""
}

// member creates a staff member with roles in groups, signs it in, opens
// its /im/agent socket and, if ready, makes it ready.
func (tm *team) member(roles string, maxUser int, ready bool, groups ...string) *member {
	tm.t.Helper()
	return tm.memberOf(demo.Tenant, roles, maxUser, ready, groups...)
}

func (tm *team) memberOf(orgi, roles string, maxUser int, ready bool, groups ...string) *member {
	tm.t.Helper()
	id, token := tm.n.Staff(orgi, fmt.Sprintf("m%d", tm.nextAgent.Add(1)), roles, maxUser, groups...)
	m := &member{id: id, token: token}
	m.sock = tm.n.Record(protocol.NamespaceAgent, url.Values{"token": {m.token}})
	if ready {
		mark := m.sock.Len()
		if code := tm.do(http.MethodPut, "/api/v1/agent/status", m.token, map[string]any{"status": "ready"}, nil); code != http.StatusOK {
			tm.t.Fatalf("ready: %d", code)
		}
		m.sock.WaitFor(mark, protocol.EventAgentStatus, func(a json.RawMessage) bool { return hasField(a, "status", "ready") }, wait)
	}
	return m
}

func (tm *team) otherTenantAdmin() *member {
	tm.t.Helper()
	if err := tm.n.Store.CreateTenant(context.Background(), &store.Tenant{ID: "t2", Name: "Other"}); err != nil {
		tm.t.Fatal(err)
	}
	return tm.memberOf("t2", "admin,supervisor", 0, false)
}

// chat opens a chat of a new visitor in skill group, asking for agent
// (nil: anyone of the group); it returns the session id once routing
// answered: assigned, or waiting when nobody serves the group.
func (tm *team) chat(skill string, agent *member) (string, *nodetest.Recorder) {
	tm.t.Helper()
	q := tm.n.Visitor(fmt.Sprintf("v%d", tm.visitors.Add(1)))
	q.Set("skill", skill)
	if agent != nil {
		q.Set("agent", agent.id)
	}
	v := tm.n.Record(protocol.NamespaceUser, q)
	var ack protocol.NewChatAck
	v.Ack(protocol.EventNew, protocol.NewChat{Name: "Visitor"}, &ack)
	if !ack.OK {
		tm.t.Fatal("new refused")
	}
	st := v.WaitFor(0, protocol.EventStatus, nil, wait)
	var s protocol.VisitorStatus
	_ = json.Unmarshal(st.Arg, &s)
	if agent != nil && (s.State != protocol.StateAssigned || s.AgentNo != agent.id) {
		tm.t.Fatalf("chat for %s: %+v", agent.id, s)
	}
	return ack.AgentServiceID, v
}

func (tm *team) session(id string) store.Session {
	tm.t.Helper()
	s, err := tm.n.Store.GetSession(context.Background(), id)
	if err != nil {
		tm.t.Fatal(err)
	}
	return s
}

// monitorOn starts m's monitor and returns its snapshot.
func (tm *team) monitorOn(m *member) protocol.MonitorSnapshot {
	tm.t.Helper()
	mark := m.sock.Len()
	var ack protocol.ErrorAck
	m.sock.Ack(protocol.EventMonitor, protocol.MonitorRequest{On: true}, &ack)
	if !ack.OK {
		tm.t.Fatalf("monitor: %+v", ack.Error)
	}
	var snap protocol.MonitorSnapshot
	_ = json.Unmarshal(m.sock.WaitFor(mark, protocol.EventMonitorSnapshot, nil, wait).Arg, &snap)
	return snap
}

func hasField(raw json.RawMessage, field, want string) bool {
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return fmt.Sprint(m[field]) == want
}

// code is an acknowledgement as an HTTP status, to compare with REST.
func code(raw json.RawMessage) int {
	var ack protocol.ErrorAck
	if err := json.Unmarshal(raw, &ack); err != nil || ack.OK {
		return http.StatusOK
	}
	switch ack.Error.Code {
	case protocol.CodeForbidden:
		return http.StatusForbidden
	case protocol.CodeNotFound:
		return http.StatusNotFound
	case protocol.CodeConflict:
		return http.StatusConflict
	case protocol.CodeBadRequest:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func (tm *team) emit(m *member, event string, arg any) int {
	tm.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	raw, err := m.sock.Call(ctx, event, arg)
	if err != nil {
		tm.t.Fatalf("%s: %v", event, err)
	}
	return code(raw)
}
