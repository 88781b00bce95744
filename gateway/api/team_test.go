package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// wait bounds every wait for an event that must come.
const wait = 10 * time.Second

type apiError struct {
	Error struct{ Code, Message string }
}

type agentRecord struct {
	ID, Username, Nickname, Status string
	MaxUser                        int `json:"maxuser"`
	Skills, Roles                  []string
	Disabled                       bool
}

// expect sends a request and fails unless the answer has status want; an
// error answer's message must contain msg (if not empty).
func expect(t *testing.T, n *nodetest.Node, method, path, token string, body any, want int, msg string) {
	t.Helper()
	var eb apiError
	resp := n.Do(method, path, token, body, &eb)
	if resp.StatusCode != want || !strings.Contains(eb.Error.Message, msg) {
		t.Fatalf("%s %s %v: %d %+v, want %d with %q", method, path, body, resp.StatusCode, eb.Error, want, msg)
	}
}

func group(t *testing.T, n *nodetest.Node, admin, name, parent string) string {
	t.Helper()
	var g struct{ ID string }
	if resp := n.Do(http.MethodPost, "/api/v1/admin/skills", admin, map[string]any{"name": name, "parent": parent}, &g); resp.StatusCode != http.StatusCreated {
		t.Fatalf("group %s: %d", name, resp.StatusCode)
	}
	return g.ID
}

func agents(t *testing.T, n *nodetest.Node, token, query string) []agentRecord {
	t.Helper()
	var rows []agentRecord
	if resp := n.Do(http.MethodGet, "/api/v1/admin/agents"+query, token, nil, &rows); resp.StatusCode != http.StatusOK {
		t.Fatalf("list %s: %d", query, resp.StatusCode)
	}
	return rows
}

func usernames(rows []agentRecord) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Username
	}
	return out
}

func TestPasswordRulesWhereverAPasswordIsSet(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	create := func(username, password string) map[string]any {
		return map[string]any{"username": username, "password": password}
	}
	for _, tc := range []struct{ password, rule string }{
		{"ab1", "at least 8 characters"},
		{"abcdefghijk", "a letter and a digit"},
		{"carol-2024", "username"},
		{"Password123", "too common"},
		{strings.Repeat("a1", 40), "at most 72 bytes"},
	} {
		expect(t, n, http.MethodPost, "/api/v1/admin/agents", admin, create("carol", tc.password), http.StatusBadRequest, tc.rule)
	}
	var carol agentRecord
	if resp := n.Do(http.MethodPost, "/api/v1/admin/agents", admin, create("carol", "tulip-river-7"), &carol); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a good password refused: %d", resp.StatusCode)
	}
	path := "/api/v1/admin/agents/" + carol.ID
	expect(t, n, http.MethodPut, path, admin, map[string]any{"password": "short1"}, http.StatusBadRequest, "at least 8")
	expect(t, n, http.MethodPost, path+"/password", admin, map[string]any{"password": "xCAROLx-99"}, http.StatusBadRequest, "username")
	token := n.Login("carol", "tulip-river-7")
	expect(t, n, http.MethodPut, "/api/v1/auth/password", token, map[string]any{"old": "tulip-river-7", "new": "nodigits-here"}, http.StatusBadRequest, "digit")

	// A reset without a password generates one, shown once, and ends the
	// logins.
	var reset struct{ Password string }
	if resp := n.Do(http.MethodPost, path+"/password", admin, map[string]any{}, &reset); resp.StatusCode != http.StatusOK || len(reset.Password) != 16 {
		t.Fatalf("generated reset: %d %+v", resp.StatusCode, reset)
	}
	expect(t, n, http.MethodGet, "/api/v1/agent/sessions", token, nil, http.StatusUnauthorized, "")
	token = n.Login("carol", reset.Password)
	var chosen map[string]any
	if resp := n.Do(http.MethodPost, path+"/password", admin, map[string]any{"password": "maple-stone-42"}, &chosen); resp.StatusCode != http.StatusOK || len(chosen) != 0 {
		t.Fatalf("chosen reset: %d, answered %v (a chosen password is not echoed)", resp.StatusCode, chosen)
	}
	expect(t, n, http.MethodGet, "/api/v1/agent/sessions", token, nil, http.StatusUnauthorized, "")
	n.Login("carol", "maple-stone-42")
	expect(t, n, http.MethodPost, "/api/v1/admin/agents/nope/password", admin, map[string]any{}, http.StatusNotFound, "agent")

	// The demo users' existing hashes are not judged by the new rules.
	n.Login(demo.Agent, nodetest.Password)
}

func TestAgentsAreValidatedAndFiltered(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	sales := group(t, n, admin, "Sales", "")
	if resp := n.Do(http.MethodPut, "/api/v1/admin/roles/auditor", admin, map[string]any{"rights": []string{"read"}}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("define auditor: %d", resp.StatusCode)
	}
	const pw = "plum-tree-5150"
	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"username": "has space", "password": pw}, "username"},
		{map[string]any{"username": "deleted-abc", "password": pw}, "reserved"},
		{map[string]any{"username": "x1", "password": pw, "roles": []string{"undefined"}}, "unknown role"},
		{map[string]any{"username": "x2", "password": pw, "roles": []string{"superadmin"}}, "unknown role"},
		{map[string]any{"username": "x3", "password": pw, "skills": []string{"nope"}}, "unknown skill"},
		{map[string]any{"username": "x4", "password": pw, "maxuser": -1}, "maxuser"},
	} {
		expect(t, n, http.MethodPost, "/api/v1/admin/agents", admin, tc.body, http.StatusBadRequest, tc.msg)
	}
	var made agentRecord
	body := map[string]any{"username": "dora", "password": pw, "nickname": "Dora Q.", "maxuser": 4, "skills": []string{sales, sales}, "roles": []string{"agent", "auditor"}}
	if resp := n.Do(http.MethodPost, "/api/v1/admin/agents", admin, body, &made); resp.StatusCode != http.StatusCreated ||
		made.Nickname != "Dora Q." || made.MaxUser != 4 || !slices.Equal(made.Skills, []string{sales}) || !slices.Equal(made.Roles, []string{"agent", "auditor"}) {
		t.Fatalf("create: %d %+v", resp.StatusCode, made)
	}
	expect(t, n, http.MethodPost, "/api/v1/admin/agents", admin, map[string]any{"username": "DORA", "password": pw}, http.StatusConflict, "taken")
	offID, _ := n.Staff(demo.Tenant, "offduty", "agent", 0)
	expect(t, n, http.MethodPut, "/api/v1/admin/agents/"+offID, admin, map[string]any{"disabled": true}, http.StatusOK, "")

	for query, want := range map[string][]string{
		"":                      {"admin", "agent", "dora", "offduty"},
		"?q=DORA":               {"dora"},
		"?q=smith":              {"agent"}, // the demo agent's nickname
		"?skill=" + sales:       {"dora"},
		"?role=auditor":         {"dora"},
		"?role=admin":           {"admin"},
		"?disabled=true":        {"offduty"},
		"?disabled=false&q=d":   {"admin", "dora"},
		"?role=agent&skill=zzz": {},
	} {
		if got := usernames(agents(t, n, admin, query)); !slices.Equal(got, want) {
			t.Errorf("list %q = %v, want %v", query, got, want)
		}
	}
	expect(t, n, http.MethodGet, "/api/v1/admin/agents?disabled=maybe", admin, nil, http.StatusBadRequest, "disabled")
}

// served is a ready agent with a socket, and a visitor it serves.
func served(t *testing.T, n *nodetest.Node, username, skill, visitor string) (id, token string, sock *nodetest.Recorder, session string) {
	t.Helper()
	id, token = n.Staff(demo.Tenant, username, "agent", 5, skill)
	sock = n.Record(protocol.NamespaceAgent, url.Values{"token": {token}})
	mark := sock.Len()
	if resp := n.Do(http.MethodPut, "/api/v1/agent/status", token, map[string]any{"status": "ready"}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("ready: %d", resp.StatusCode)
	}
	sock.WaitFor(mark, protocol.EventAgentStatus, nil, wait)
	return id, token, sock, openChat(t, n, skill, visitor, id)
}

func TestDeletingAnAgentKeepsItsHistoryAndFreesItsName(t *testing.T) {
	for _, mysql := range []bool{false, true} {
		t.Run(fmt.Sprintf("mysql=%v", mysql), func(t *testing.T) {
			n := nodetest.Start(t, nodetest.Options{MySQL: mysql})
			admin := n.Admin()
			skill := group(t, n, admin, "Help", "")
			id, token, sock, past := served(t, n, "erin", skill, "v-past")
			if resp := n.Do(http.MethodPost, "/api/v1/sessions/"+past+"/end", token, nil, nil); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
				t.Fatalf("end: %d", resp.StatusCode)
			}
			open := openChat(t, n, skill, "v-open", id)

			me := agents(t, n, admin, "?role=admin")
			expect(t, n, http.MethodDelete, "/api/v1/admin/agents/"+me[0].ID, admin, nil, http.StatusConflict, "themselves")
			expect(t, n, http.MethodDelete, "/api/v1/admin/agents/nope", admin, nil, http.StatusNotFound, "agent")
			mark := sock.Len()
			expect(t, n, http.MethodDelete, "/api/v1/admin/agents/"+id, admin, nil, http.StatusNoContent, "")
			sock.WaitFor(mark, protocol.EventLeave, nil, wait)
			expect(t, n, http.MethodGet, "/api/v1/agent/sessions", token, nil, http.StatusUnauthorized, "")
			expect(t, n, http.MethodDelete, "/api/v1/admin/agents/"+id, admin, nil, http.StatusNotFound, "agent")
			expect(t, n, http.MethodPut, "/api/v1/admin/agents/"+id, admin, map[string]any{"nickname": "x"}, http.StatusNotFound, "agent")

			// Its open chat went back to the queue, nobody else serving.
			if s, err := n.Store.GetSession(t.Context(), open); err != nil || s.Status != protocol.SessionInQueue {
				t.Errorf("the deleted agent's open chat: %+v (%v), want queued again", s, err)
			}
			// Gone from every list...
			if got := usernames(agents(t, n, admin, "")); slices.Contains(got, "erin") || slices.ContainsFunc(got, func(u string) bool { return strings.HasPrefix(u, "deleted-") }) {
				t.Errorf("admin list shows the deleted agent: %v", got)
			}
			var colleagues []agentRecord
			n.Do(http.MethodGet, "/api/v1/agents", admin, nil, &colleagues)
			if slices.ContainsFunc(colleagues, func(r agentRecord) bool { return r.ID == id }) {
				t.Errorf("transfer targets show the deleted agent: %+v", colleagues)
			}
			// ...but the chats it served still name it.
			var tr struct {
				Session struct {
					AgentNo   string `json:"agentno"`
					AgentName string `json:"agentname"`
				}
			}
			if resp := n.Do(http.MethodGet, "/api/v1/archive/"+past, admin, nil, &tr); resp.StatusCode != http.StatusOK || tr.Session.AgentNo != id || tr.Session.AgentName != "erin" {
				t.Errorf("archive of a chat the deleted agent served: %d %+v", resp.StatusCode, tr.Session)
			}
			// The username is free again.
			expect(t, n, http.MethodPost, "/api/v1/admin/agents", admin, map[string]any{"username": "Erin", "password": "fresh-start-88"}, http.StatusCreated, "")
		})
	}
}

// openChat opens a chat of a new visitor in skill and waits until agent
// serves it.
func openChat(t *testing.T, n *nodetest.Node, skill, visitor, agent string) string {
	t.Helper()
	q := n.Visitor(visitor)
	q.Set("skill", skill)
	v := n.Record(protocol.NamespaceUser, q)
	var ack protocol.NewChatAck
	v.Ack(protocol.EventNew, protocol.NewChat{Name: visitor}, &ack)
	var st protocol.VisitorStatus
	_ = json.Unmarshal(v.WaitFor(0, protocol.EventStatus, nil, wait).Arg, &st)
	if !ack.OK || st.AgentNo != agent {
		t.Fatalf("chat of %s: %+v %+v", visitor, ack, st)
	}
	return ack.AgentServiceID
}

func TestSkillGroupsMembersAndDeletion(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	parent := group(t, n, admin, "Parent", "")
	child := group(t, n, admin, "Child", parent)
	a1, _ := n.Staff(demo.Tenant, "m1", "agent", 0)
	a2, _ := n.Staff(demo.Tenant, "m2", "agent", 0)
	other := "t2"
	if err := n.Store.CreateTenant(t.Context(), &store.Tenant{ID: other, Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	foreign, _ := n.Staff(other, "f1", "agent", 0)

	members := func(id string, agents []string, want int, msg string) {
		t.Helper()
		expect(t, n, http.MethodPut, "/api/v1/admin/skills/"+id+"/members", admin, map[string]any{"agents": agents}, want, msg)
	}
	members(child, []string{a1, a2, a1}, http.StatusOK, "")
	members(child, []string{a1, foreign}, http.StatusBadRequest, "unknown agent")
	members("nope", []string{a1}, http.StatusNotFound, "skill group")
	expect(t, n, http.MethodPut, "/api/v1/admin/skills/"+child+"/members", admin, map[string]any{}, http.StatusBadRequest, "agents is required")
	if got := usernames(agents(t, n, admin, "?skill="+child)); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Fatalf("members of child: %v", got)
	}

	// Groups are edited in place: name, capacity, parent, disabled.
	var g struct {
		Name, Parent string
		MaxUser      int `json:"maxuser"`
		Disabled     bool
	}
	if resp := n.Do(http.MethodPut, "/api/v1/admin/skills/"+child, admin, map[string]any{"name": "Child 2", "maxuser": 3, "parent": "", "disabled": true}, &g); resp.StatusCode != http.StatusOK ||
		g.Name != "Child 2" || g.MaxUser != 3 || g.Parent != "" || !g.Disabled {
		t.Fatalf("edit group: %d %+v", resp.StatusCode, g)
	}
	expect(t, n, http.MethodPut, "/api/v1/admin/skills/"+parent, admin, map[string]any{"parent": parent}, http.StatusBadRequest, "below itself")
	expect(t, n, http.MethodPut, "/api/v1/admin/skills/"+child, admin, map[string]any{"parent": parent}, http.StatusOK, "")

	expect(t, n, http.MethodDelete, "/api/v1/admin/skills/"+parent, admin, nil, http.StatusConflict, "1 child groups")
	expect(t, n, http.MethodDelete, "/api/v1/admin/skills/"+child, admin, nil, http.StatusConflict, "2 members")
	if err := n.Store.SaveSessionConfig(t.Context(), store.SessionConfig{Orgi: demo.Tenant, Skill: child, MaxUser: 2}); err != nil {
		t.Fatal(err)
	}
	members(child, []string{}, http.StatusOK, "")
	expect(t, n, http.MethodDelete, "/api/v1/admin/skills/"+child, admin, nil, http.StatusNoContent, "")
	expect(t, n, http.MethodDelete, "/api/v1/admin/skills/"+child, admin, nil, http.StatusNotFound, "skill group")
	expect(t, n, http.MethodDelete, "/api/v1/admin/skills/"+parent, admin, nil, http.StatusNoContent, "")
	cfgs, err := n.Store.SessionConfigs(t.Context(), demo.Tenant)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs {
		if c.Skill == child {
			t.Errorf("the deleted group's routing settings stay: %+v", c)
		}
	}
	// Only admins manage groups.
	_, agentToken := n.Staff(demo.Tenant, "plain", "agent", 0)
	expect(t, n, http.MethodDelete, "/api/v1/admin/skills/"+parent, agentToken, nil, http.StatusForbidden, "")
}
