package api

import (
	"reflect"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/pkg/geoip"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

func TestUnreadVisitorPanelTagsAndSummary(t *testing.T) {
	e := newEnv(t, 30)
	agentTok, admin := e.login("agent"), e.login("admin")
	var agents []map[string]any
	e.do("GET", "/api/v1/agents", agentTok, "", nil, &agents)
	sess := e.inService(agents[0]["id"].(string))
	ctx := t.Context()
	for i, call := range []string{protocol.CallTypeIn, protocol.CallTypeIn, protocol.CallTypeOut, protocol.CallTypeIn} {
		if _, _, err := e.st.AppendMessage(ctx, &store.Message{SessionID: sess.ID, Type: "message", MsgType: "text", CallType: call, Body: "m"}); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := e.st.AddTrace(ctx, store.VisitorTrace{Orgi: demo.Tenant, AppID: sess.AppID, UserID: sess.UserID, Title: "Pricing", URL: "https://shop.example/pricing"}); err != nil {
		t.Fatal(err)
	}
	var list []agentSession
	e.do("GET", "/api/v1/agent/sessions", agentTok, "", nil, &list)
	if len(list) != 1 || list[0].Unread != 3 || list[0].ReadSeq != 0 {
		t.Fatalf("sessions: %+v", list)
	}
	var rv protocol.ReadMark
	e.do("POST", "/api/v1/sessions/"+sess.ID+"/read", agentTok, "", map[string]any{"seq": 2}, &rv)
	if rv.ReadSeq != 2 || rv.Unread != 1 {
		t.Fatalf("read to 2: %+v", rv)
	}
	e.do("POST", "/api/v1/sessions/"+sess.ID+"/read", agentTok, "", map[string]any{"seq": 1}, &rv)
	if rv.ReadSeq != 2 {
		t.Fatalf("read went backwards: %+v", rv)
	}
	e.do("POST", "/api/v1/sessions/"+sess.ID+"/read", agentTok, "", map[string]any{"seq": 99}, &rv)
	if rv.ReadSeq != 4 || rv.Unread != 0 {
		t.Fatalf("read past the end: %+v", rv)
	}

	var eb errBody
	if r := e.do("POST", "/api/v1/tags", agentTok, "", map[string]any{"name": "VIP"}, &eb); r.StatusCode != 403 {
		t.Fatalf("agent creating a tag: %d", r.StatusCode)
	}
	var tag map[string]any
	if r := e.do("POST", "/api/v1/tags", admin, "", map[string]any{"name": "VIP", "color": "#ff0000"}, &tag); r.StatusCode != 201 {
		t.Fatalf("tag: %d", r.StatusCode)
	}
	if r := e.do("PUT", "/api/v1/sessions/"+sess.ID+"/tags", agentTok, "", map[string]any{"tags": []string{"nope"}}, &eb); r.StatusCode != 404 {
		t.Fatalf("unknown tag: %d", r.StatusCode)
	}
	e.do("PUT", "/api/v1/sessions/"+sess.ID+"/tags", agentTok, "", map[string]any{"tags": []any{tag["id"], tag["id"]}}, nil)
	e.do("PUT", "/api/v1/sessions/"+sess.ID+"/summary", agentTok, "", map[string]any{"summary": " asked about pricing "}, nil)
	var panel map[string]any
	e.do("GET", "/api/v1/sessions/"+sess.ID+"/visitor", agentTok, "", nil, &panel)
	trail, _ := panel["trail"].([]any)
	tags, _ := panel["tags"].([]any)
	if len(trail) != 1 || len(tags) != 1 || tags[0] != tag["id"] || panel["summary"] != "asked about pricing" || panel["userid"] != sess.UserID {
		t.Fatalf("panel: %v", panel)
	}
}

func TestCannedRepliesAndInbox(t *testing.T) {
	e := newEnv(t, 30)
	agentTok, admin := e.login("agent"), e.login("admin")
	var eb errBody
	if r := e.do("POST", "/api/v1/canned", agentTok, "", map[string]any{"title": "Hi", "content": "Hello!", "scope": "tenant"}, &eb); r.StatusCode != 403 {
		t.Fatalf("agent making a tenant reply: %d", r.StatusCode)
	}
	for _, bad := range []map[string]any{{"title": "", "content": "x", "scope": "private"}, {"title": "x", "content": "x", "scope": "everyone"}} {
		if r := e.do("POST", "/api/v1/canned", agentTok, "", bad, &eb); r.StatusCode != 400 {
			t.Fatalf("%v: %d", bad, r.StatusCode)
		}
	}
	var mine, shared map[string]any
	e.do("POST", "/api/v1/canned", agentTok, "", map[string]any{"category": "Greetings", "title": "Hi", "content": "Hello, how can I help?", "scope": "private"}, &mine)
	e.do("POST", "/api/v1/canned", admin, "", map[string]any{"category": "Billing", "title": "Refunds", "content": "Refunds take 5 days.", "scope": "tenant"}, &shared)
	var found []map[string]any
	e.do("GET", "/api/v1/canned?q=refund", agentTok, "", nil, &found)
	if len(found) != 1 || found[0]["id"] != shared["id"] {
		t.Fatalf("search: %v", found)
	}
	e.do("GET", "/api/v1/canned?q=100%25", agentTok, "", nil, &found)
	if len(found) != 0 {
		t.Fatalf("%% is not a wildcard: %v", found)
	}
	e.do("GET", "/api/v1/canned", admin, "", nil, &found)
	if len(found) != 1 { // the agent's private reply is not the admin's
		t.Fatalf("admin sees: %v", found)
	}
	if r := e.do("PUT", "/api/v1/canned/"+shared["id"].(string), agentTok, "", map[string]any{"title": "x", "content": "y", "scope": "tenant"}, &eb); r.StatusCode != 403 {
		t.Fatalf("agent editing a tenant reply: %d", r.StatusCode)
	}
	if r := e.do("DELETE", "/api/v1/canned/"+mine["id"].(string), admin, "", nil, &eb); r.StatusCode != 404 {
		t.Fatalf("admin deleting another's private reply: %d", r.StatusCode)
	}
	if r := e.do("DELETE", "/api/v1/canned/"+mine["id"].(string), agentTok, "", nil, nil); r.StatusCode != 204 {
		t.Fatalf("delete own: %d", r.StatusCode)
	}

	userid, sign := e.visitor()
	e.do("POST", "/im/"+demo.AppID+"/leavemsg", "", "", map[string]any{"userid": userid, "sign": sign, "email": "a@b.c", "content": "call me"}, nil)
	var inbox []map[string]any
	e.do("GET", "/api/v1/leavemsgs", agentTok, "", nil, &inbox)
	if len(inbox) != 1 || inbox[0]["status"] != store.LeaveNotProcessed {
		t.Fatalf("inbox: %v", inbox)
	}
	var handledMsg map[string]any
	e.do("PUT", "/api/v1/leavemsgs/"+inbox[0]["id"].(string), agentTok, "", map[string]any{"status": "processed", "note": "called back"}, &handledMsg)
	if handledMsg["status"] != "processed" || handledMsg["note"] != "called back" || handledMsg["handledat"] == nil {
		t.Fatalf("handled: %v", handledMsg)
	}
	e.do("GET", "/api/v1/leavemsgs", agentTok, "", nil, &inbox)
	if len(inbox) != 0 {
		t.Fatalf("unprocessed after handling: %v", inbox)
	}
	if r := e.do("GET", "/api/v1/leavemsgs?status=bogus", agentTok, "", nil, &eb); r.StatusCode != 400 {
		t.Fatalf("bad status: %d", r.StatusCode)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	e := newEnv(t, 30)
	tok := e.login("agent")
	var eb errBody
	if r := e.do("PUT", "/api/v1/auth/password", tok, "", map[string]string{"old": "wrong", "new": "brand-new-pass-2"}, &eb); r.StatusCode != 403 {
		t.Fatalf("wrong old password: %d", r.StatusCode)
	}
	if r := e.do("PUT", "/api/v1/auth/password", tok, "", map[string]string{"old": password, "new": "short"}, &eb); r.StatusCode != 400 {
		t.Fatalf("short new password: %d", r.StatusCode)
	}
	if r := e.do("PUT", "/api/v1/auth/password", tok, "", map[string]string{"old": password, "new": "brand-new-pass-2"}, nil); r.StatusCode != 204 {
		t.Fatalf("change: %d", r.StatusCode)
	}
	if r := e.do("GET", "/api/v1/agent/sessions", tok, "", nil, &eb); r.StatusCode != 401 {
		t.Fatalf("old login still works: %d", r.StatusCode)
	}
	var out map[string]any
	if r := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"username": "agent", "password": "brand-new-pass-2"}, &out); r.StatusCode != 200 {
		t.Fatalf("login with the new password: %d", r.StatusCode)
	}
}

func TestVisitorPanelLocation(t *testing.T) {
	geo, err := geoip.Open("../../pkg/geoip/testdata/test-city.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close() })
	located := newEnv(t, 30, func(d *Deps) { d.Locator = geo })
	plain := newEnv(t, 30)
	tokens := map[*env]string{located: located.login("admin"), plain: plain.login("admin")}
	london := map[string]any{"country": "United Kingdom", "countrycode": "GB", "region": "England", "city": "London"}
	for _, c := range []struct {
		env  *env
		ip   string
		want map[string]any // nil: no location
	}{
		{located, "81.2.69.160:50123", london}, // as the visitor socket stores it
		{located, "81.2.69.160", london},
		{located, "[::1]:40000", map[string]any{"country": "Testland", "countrycode": "XT", "region": "Loopback", "city": "Localhost"}},
		{located, "10.0.0.7:50123", nil}, // not in the database
		{located, "", nil},
		{plain, "81.2.69.160:50123", nil}, // no database configured
	} {
		sess := store.Session{Orgi: demo.Tenant, AppID: demo.AppID, UserID: store.NewID(), IP: c.ip}
		if err := c.env.st.CreateSession(t.Context(), &sess); err != nil {
			t.Fatal(err)
		}
		var panel map[string]any
		if r := c.env.do("GET", "/api/v1/sessions/"+sess.ID+"/visitor", tokens[c.env], "", nil, &panel); r.StatusCode != 200 {
			t.Fatalf("%s: %d", c.ip, r.StatusCode)
		}
		got, present := panel["location"]
		if c.want == nil && present || c.want != nil && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s (database %v): location %v, want %v", c.ip, c.env == located, got, c.want)
		}
	}
}

func TestAgentListKeepsEndedChatsWithTheirLastMessage(t *testing.T) {
	e := newEnv(t, 30)
	agentTok := e.login("agent")
	var agents []map[string]any
	e.do("GET", "/api/v1/agents", agentTok, "", nil, &agents)
	open, done := e.inService(agents[0]["id"].(string)), e.inService(agents[0]["id"].(string))
	for _, sess := range []store.Session{open, done} {
		if _, _, err := e.st.AppendMessage(t.Context(), &store.Message{SessionID: sess.ID, Type: "message", MsgType: "text", CallType: protocol.CallTypeIn, Body: "hello from " + sess.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.do("POST", "/api/v1/sessions/"+done.ID+"/end", agentTok, "", nil, nil); r.StatusCode != 200 {
		t.Fatalf("end: %d", r.StatusCode)
	}

	var list []agentSession
	e.do("GET", "/api/v1/agent/sessions", agentTok, "", nil, &list)
	if len(list) != 1 || list[0].AgentServiceID != open.ID || list[0].Last == nil || list[0].Last.Message != "hello from "+open.ID {
		t.Fatalf("in service only, with its last message: %+v", list)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	e.do("GET", "/api/v1/agent/sessions?ended="+since, agentTok, "", nil, &list)
	if len(list) != 2 || list[1].AgentServiceID != done.ID || list[1].EndTime == nil || list[1].Last == nil {
		t.Fatalf("with the ended chat: %+v", list)
	}
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	e.do("GET", "/api/v1/agent/sessions?ended="+later, agentTok, "", nil, &list)
	if len(list) != 1 {
		t.Fatalf("ended before the cut-off (cleared) still listed: %+v", list)
	}
	var eb errBody
	if r := e.do("GET", "/api/v1/agent/sessions?ended=yesterday", agentTok, "", nil, &eb); r.StatusCode != 400 || eb.Error.Code != protocol.CodeBadRequest {
		t.Fatalf("bad ended: %d %+v", r.StatusCode, eb)
	}
}
