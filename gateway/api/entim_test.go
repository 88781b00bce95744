package api

import (
	"testing"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/pkg/store"
)

func TestIMContactsHistoryGroupsAndUnread(t *testing.T) {
	e := newEnv(t, 30)
	ctx := t.Context()
	admin := e.login("admin")
	var bob map[string]any
	e.do("POST", "/api/v1/admin/agents", admin, "", map[string]any{"username": "bob", "password": password, "nickname": "Bob"}, &bob)
	bobTok := e.login("bob")
	var agents []map[string]any
	e.do("GET", "/api/v1/agents", bobTok, "", nil, &agents)
	var demoAgent string
	for _, a := range agents {
		if a["id"] != bob["id"] {
			demoAgent = a["id"].(string)
		}
	}
	say := func(from, to, group, text string) {
		m := store.IMMessage{Orgi: demo.Tenant, From: from, ClientID: store.NewID(), Body: text, GroupID: group}
		if to != "" {
			m.Pair = store.Pair(from, to)
		}
		if _, _, err := e.st.AppendIM(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	say(demoAgent, bob["id"].(string), "", "hi Bob")
	say(demoAgent, bob["id"].(string), "", "are you there?")
	say(bob["id"].(string), demoAgent, "", "yes")

	var contacts struct {
		Contacts []map[string]any `json:"contacts"`
		Groups   []map[string]any `json:"groups"`
	}
	e.do("GET", "/api/v1/entim/contacts", bobTok, "", nil, &contacts)
	unread := map[any]any{}
	for _, c := range contacts.Contacts {
		unread[c["id"]] = c["unread"]
	}
	if unread[demoAgent] != float64(2) {
		t.Fatalf("bob's contacts: %v", contacts.Contacts)
	}
	var history []map[string]any
	e.do("GET", "/api/v1/entim/messages?with="+demoAgent, bobTok, "", nil, &history)
	if len(history) != 3 || history[0]["message"] != "hi Bob" || history[2]["from"] != bob["id"] {
		t.Fatalf("history: %v", history)
	}
	e.do("GET", "/api/v1/entim/messages?with="+demoAgent+"&before="+history[1]["pk"].(string), bobTok, "", nil, &history)
	if len(history) != 1 || history[0]["message"] != "hi Bob" {
		t.Fatalf("page back: %v", history)
	}
	if r := e.do("POST", "/api/v1/entim/read", bobTok, "", map[string]any{"with": demoAgent}, nil); r.StatusCode != 204 {
		t.Fatalf("read: %d", r.StatusCode)
	}
	e.do("GET", "/api/v1/entim/contacts", bobTok, "", nil, &contacts)
	for _, c := range contacts.Contacts {
		if c["id"] == demoAgent && c["unread"] != float64(0) {
			t.Fatalf("after read: %v", c)
		}
	}

	var g map[string]any
	if r := e.do("POST", "/api/v1/entim/groups", bobTok, "", map[string]any{"name": "Shift B", "members": []string{demoAgent}}, &g); r.StatusCode != 201 {
		t.Fatalf("group: %d", r.StatusCode)
	}
	say(demoAgent, "", g["id"].(string), "standup in 5")
	e.do("GET", "/api/v1/entim/contacts", bobTok, "", nil, &contacts)
	if len(contacts.Groups) != 1 || contacts.Groups[0]["unread"] != float64(1) {
		t.Fatalf("groups: %v", contacts.Groups)
	}
	var eb errBody
	if r := e.do("GET", "/api/v1/entim/messages?group=nope", bobTok, "", nil, &eb); r.StatusCode != 404 {
		t.Fatalf("unknown group: %d", r.StatusCode)
	}
	if r := e.do("GET", "/api/v1/entim/messages", bobTok, "", nil, &eb); r.StatusCode != 400 {
		t.Fatalf("no target: %d", r.StatusCode)
	}
	if r := e.do("POST", "/api/v1/entim/groups", bobTok, "", map[string]any{"name": "x", "members": []string{"nobody"}}, &eb); r.StatusCode != 404 {
		t.Fatalf("unknown member: %d", r.StatusCode)
	}
}
