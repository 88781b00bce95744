package node_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// The permission matrix of supervision (design invariant I8): every route
// and socket event that reads or acts on a chat, the queue or an agent,
// tried by each kind of staff member on a target in its own scope, in
// another scope and (for another tenant's admin) in another tenant. A
// refusal is 403 (404 across tenants) and changes nothing; an allowed
// action succeeds.

// actor is who tries, with what its roles grant, in which groups' scope.
type actor struct {
	name   string
	who    func(*team) *member
	rights string // r, w, t
	scope  []string
	owns   bool // serves the shared chat of group A
	other  bool // another tenant
}

var actors = []actor{
	{name: "agent", who: func(tm *team) *member { return tm.agentA }, owns: true},
	{name: "supervisor A", who: func(tm *team) *member { return tm.supA }, rights: "rwt", scope: []string{"A"}},
	{name: "auditor A", who: func(tm *team) *member { return tm.audA }, rights: "r", scope: []string{"A"}},
	{name: "supervisor B", who: func(tm *team) *member { return tm.supB }, rights: "rwt", scope: []string{"B"}},
	{name: "admin", who: func(tm *team) *member { return tm.boss }, rights: "rwt", scope: []string{"A", "B"}},
	{name: "other tenant", who: func(tm *team) *member { return tm.other }, rights: "rwt", other: true},
}

// target kinds
const (
	inService = "chat"
	waiting   = "queue"
	anAgent   = "agent"
)

// action is one route or event.
type action struct {
	name   string
	right  byte // 'r', 'w' or 't'
	target string
	ownOK  bool // the chat's own agent may (its own chats only)
	mutate bool // an allowed try changes the target: use a fresh one
	try    func(tm *team, m *member, id string) int
}

var actions = []action{
	{name: "GET messages", right: 'r', target: inService, ownOK: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodGet, "/api/v1/sessions/"+id+"/messages", m.token, nil, nil)
	}},
	{name: "GET visitor panel", right: 'r', target: inService, ownOK: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodGet, "/api/v1/sessions/"+id+"/visitor", m.token, nil, nil)
	}},
	{name: "GET notes", right: 'r', target: inService, ownOK: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodGet, "/api/v1/sessions/"+id+"/notes", m.token, nil, nil)
	}},
	{name: "watch", right: 'r', target: inService, try: func(tm *team, m *member, id string) int {
		if m.sock == nil {
			return 0
		}
		// watching needs the monitor on (a refusal there is the verdict)
		if c := tm.emit(m, protocol.EventMonitor, protocol.MonitorRequest{On: true}); c != http.StatusOK {
			return c
		}
		return tm.emit(m, protocol.EventWatch, protocol.WatchRequest{AgentServiceID: id, On: true})
	}},
	{name: "rating request", right: 'w', target: inService, ownOK: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPost, "/api/v1/sessions/"+id+"/rating-request", m.token, nil, nil)
	}},
	{name: "summary", right: 'w', target: inService, ownOK: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPut, "/api/v1/sessions/"+id+"/summary", m.token, map[string]string{"summary": "s"}, nil)
	}},
	{name: "intervene", right: 'w', target: inService, try: func(tm *team, m *member, id string) int {
		return tm.emit(m, protocol.EventIntervene, protocol.SendMessage{AgentServiceID: id, Type: "message", MsgType: "text", Message: "hi", ClientID: "c-" + m.id})
	}},
	{name: "whisper", right: 'w', target: inService, try: func(tm *team, m *member, id string) int {
		return tm.emit(m, protocol.EventWhisper, protocol.WhisperRequest{AgentServiceID: id, Message: "psst", ClientID: "w-" + m.id})
	}},
	{name: "takeover", right: 't', target: inService, mutate: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPost, "/api/v1/sessions/"+id+"/takeover", m.token, map[string]string{}, nil)
	}},
	{name: "transfer", right: 't', target: inService, ownOK: true, mutate: true, try: func(tm *team, m *member, id string) int {
		to := tm.spareA.id
		if tm.session(id).AgentNo == to {
			to = tm.spareB.id
		}
		return tm.do(http.MethodPost, "/api/v1/sessions/"+id+"/transfer", m.token, map[string]string{"agentno": to, "memo": "m"}, nil)
	}},
	{name: "end", right: 't', target: inService, ownOK: true, mutate: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPost, "/api/v1/sessions/"+id+"/end", m.token, nil, nil)
	}},
	{name: "queue take", right: 't', target: waiting, mutate: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPost, "/api/v1/queue/"+id+"/assign", m.token, map[string]string{"agentno": m.id}, nil)
	}},
	{name: "queue move", right: 't', target: waiting, mutate: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPost, "/api/v1/queue/"+id+"/move", m.token, map[string]string{"skill": tm.qb}, nil)
	}},
	{name: "queue reroute", right: 't', target: waiting, mutate: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPost, "/api/v1/queue/"+id+"/reroute", m.token, nil, nil)
	}},
	{name: "agent not ready", right: 't', target: anAgent, mutate: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPut, "/api/v1/agents/"+id+"/status", m.token, map[string]string{"status": "notready"}, nil)
	}},
	{name: "agent offline", right: 't', target: anAgent, mutate: true, try: func(tm *team, m *member, id string) int {
		return tm.do(http.MethodPost, "/api/v1/agents/"+id+"/offline", m.token, nil, nil)
	}},
}

func TestSupervisionPermissionMatrix(t *testing.T) {
	tm := newTeam(t)
	// Shared targets, for tries that are refused or change nothing.
	chatA, _ := tm.chat(tm.a, tm.agentA)
	chatB, _ := tm.chat(tm.b, tm.agentB)
	waitA, _ := tm.chat(tm.qa, nil)
	waitB, _ := tm.chat(tm.qb, nil)
	shared := map[string]map[string]string{
		inService: {"A": chatA, "B": chatB},
		waiting:   {"A": waitA, "B": waitB},
		anAgent:   {"A": tm.agentA.id, "B": tm.agentB.id},
	}
	fresh := func(kind, scope string, owner *member) string {
		group := map[string]string{"A": tm.a, "B": tm.b}[scope]
		switch kind {
		case inService:
			serve := map[string]*member{"A": tm.spareA, "B": tm.spareB}[scope]
			if owner != nil {
				serve = owner
			}
			id, _ := tm.chat(group, serve)
			return id
		case waiting:
			id, _ := tm.chat(map[string]string{"A": tm.qa, "B": tm.qb}[scope], nil)
			return id
		}
		return tm.member("agent", 0, true, group).id
	}
	for _, ac := range actions {
		for _, who := range actors {
			for _, scope := range []string{"A", "B"} {
				name := ac.name + "/" + who.name + "/" + scope
				m := who.who(tm)
				own := who.owns && scope == "A" && ac.target == inService
				allowed := !who.other && ((own && ac.ownOK) || (slices.Contains(who.scope, scope) && strings.IndexByte(who.rights, ac.right) >= 0))
				id := shared[ac.target][scope]
				if allowed && ac.mutate {
					var owner *member
					if own {
						owner = tm.agentA
					}
					id = fresh(ac.target, scope, owner)
				}
				before := snapshotOf(tm, ac.target, id)
				got := ac.try(tm, m, id)
				switch {
				case who.other:
					if got != http.StatusNotFound {
						t.Errorf("%s: %d, want 404 (another tenant's)", name, got)
					}
				case allowed:
					if got < 200 || got > 299 {
						t.Errorf("%s: %d, want success", name, got)
					}
				default:
					if got != http.StatusForbidden {
						t.Errorf("%s: %d, want 403", name, got)
					}
				}
				if !allowed {
					if after := snapshotOf(tm, ac.target, id); after != before {
						t.Errorf("%s: refused, yet changed %q → %q", name, before, after)
					}
				}
			}
		}
	}
}

// snapshotOf is what a refused try must leave alone.
func snapshotOf(tm *team, kind, id string) string {
	tm.t.Helper()
	if kind == anAgent {
		var st struct {
			Status string `json:"status"`
		}
		rows := []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}{}
		tm.do(http.MethodGet, "/api/v1/agents", tm.admin, nil, &rows)
		for _, r := range rows {
			if r.ID == id {
				st.Status = r.Status
			}
		}
		return st.Status
	}
	s := tm.session(id)
	return s.Status + "|" + s.AgentNo + "|" + s.Skill + "|" + s.Agent + "|" + s.ServiceSummary
}

// TestStaffRoutesNeedTheirRole: the routes of a role, not of a scope.
func TestStaffRoutesNeedTheirRole(t *testing.T) {
	tm := newTeam(t)
	for _, who := range []*member{tm.agentA, tm.supA, tm.audA} {
		if c := tm.do(http.MethodPut, "/api/v1/admin/roles/x", who.token, map[string]any{"rights": []string{"read"}}, nil); c != http.StatusForbidden {
			t.Errorf("non-admin defines a role: %d", c)
		}
	}
	for _, tc := range []struct {
		who  *member
		want int
	}{{tm.agentA, 403}, {tm.supA, 200}, {tm.audA, 200}, {tm.boss, 200}} {
		if c := tm.do(http.MethodGet, "/api/v1/monitor/history", tm.admin, nil, nil); c != http.StatusOK {
			t.Fatalf("admin history: %d", c)
		}
		if c := tm.do(http.MethodGet, "/api/v1/monitor/history", tc.who.token, nil, nil); c != tc.want {
			t.Errorf("history: %d, want %d", c, tc.want)
		}
		if c := tm.do(http.MethodGet, "/api/v1/queue", tc.who.token, nil, nil); c != tc.want {
			t.Errorf("queue: %d, want %d", c, tc.want)
		}
		if c := tm.emit(tc.who, protocol.EventMonitor, protocol.MonitorRequest{On: true}); c != tc.want {
			t.Errorf("monitor: %d, want %d", c, tc.want)
		}
	}
}

// TestAnAgentReadsTheEarlierChatsOfTheVisitorItServes: the visitor panel's
// earlier chats, served by a colleague, open for the agent serving that
// visitor now, and for nobody else without a right.
func TestAnAgentReadsTheEarlierChatsOfTheVisitorItServes(t *testing.T) {
	tm := newTeam(t)
	q := tm.n.Visitor("returning")
	q.Set("agent", tm.agentB.id)
	first := tm.n.Record(protocol.NamespaceUser, q)
	var ack protocol.NewChatAck
	first.Ack(protocol.EventNew, protocol.NewChat{}, &ack)
	earlier := ack.AgentServiceID
	first.WaitFor(0, protocol.EventStatus, nil, wait)
	if c := tm.do(http.MethodPost, "/api/v1/sessions/"+earlier+"/end", tm.agentB.token, nil, nil); c != http.StatusOK {
		t.Fatalf("end: %d", c)
	}
	path := "/api/v1/sessions/" + earlier + "/messages"
	if c := tm.do(http.MethodGet, path, tm.agentA.token, nil, nil); c != http.StatusForbidden {
		t.Fatalf("before serving the visitor: %d", c)
	}
	q.Set("agent", tm.agentA.id)
	again := tm.n.Record(protocol.NamespaceUser, q)
	again.Ack(protocol.EventNew, protocol.NewChat{}, &ack)
	again.WaitFor(0, protocol.EventStatus, func(raw json.RawMessage) bool { return hasField(raw, "state", "assigned") }, wait)
	for _, p := range []string{path, "/api/v1/sessions/" + earlier + "/notes"} {
		if c := tm.do(http.MethodGet, p, tm.agentA.token, nil, nil); c != http.StatusOK {
			t.Errorf("%s while serving the visitor: %d", p, c)
		}
	}
	if c := tm.do(http.MethodGet, path, tm.spareB.token, nil, nil); c != http.StatusForbidden {
		t.Errorf("a colleague not serving the visitor: %d", c)
	}
}
