package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/ask"
	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/sitecache"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
)

type env struct {
	t       *testing.T
	srv     *httptest.Server
	st      *store.Store
	signer  *identity.Signer
	cmds    *command.Memory
	replies *ask.Replies
}

const password = "demo-pass-1"

func newEnv(t *testing.T, visitorRate int, with ...func(*Deps)) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.SQLite(t)
	if _, err := demo.Seed(ctx, st, password); err != nil {
		t.Fatal(err)
	}
	restricted := &store.Site{AppID: "shop", Orgi: demo.Tenant, Name: "Shop", Origins: `["https://shop.example"]`, Config: "{}"}
	if err := st.CreateSite(ctx, restricted); err != nil {
		t.Fatal(err)
	}
	signer, _ := identity.NewSigner(strings.Repeat("s", 32))
	authSvc, err := auth.New(st, time.Hour, throttle.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sites := sitecache.New(st, time.Second)
	cmds := command.NewMemory()
	replies := ask.NewReplies()
	e := NewServer(ServerOptions{Logger: log})
	e.Use((&Origins{Sites: sites, Staff: []string{"https://admin.example"}}).Middleware)
	deps := Deps{
		Store: st, Blobs: st, Sites: sites, Auth: authSvc, Access: access.NewResolver(st, time.Millisecond), Signer: signer, Emit: emit.New(broker.NewMemory()),
		Commands: cmds, Ask: ask.Asker{Commands: cmds, Replies: replies}, Online: online.NewMemory(), PublicURL: "https://kefu.example", VisitorRate: visitorRate, NodeID: "n1", Logger: log,
	}
	for _, f := range with {
		f(&deps)
	}
	New(deps).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, st: st, signer: signer, cmds: cmds, replies: replies}
}

// do sends a request and decodes the JSON answer into out (if non-nil).
func (e *env) do(method, path, token, origin string, body any, out any) *http.Response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp
}

type errBody struct {
	Error struct{ Code, Message string } `json:"error"`
}

func (e *env) login(user string) string {
	e.t.Helper()
	var out struct {
		Token string `json:"token"`
		Agent struct {
			Username string   `json:"username"`
			Orgi     string   `json:"orgi"`
			Roles    []string `json:"roles"`
		} `json:"agent"`
	}
	if r := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"username": user, "password": password}, &out); r.StatusCode != 200 {
		e.t.Fatalf("login %s: %d", user, r.StatusCode)
	}
	if out.Token == "" || out.Agent.Username != user || out.Agent.Orgi != demo.Tenant || len(out.Agent.Roles) == 0 {
		e.t.Fatalf("login answer: %+v", out)
	}
	return out.Token
}

func TestLoginLogoutAndTokens(t *testing.T) {
	e := newEnv(t, 30)
	var eb errBody
	if r := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"username": "agent", "password": "wrong"}, &eb); r.StatusCode != 401 || eb.Error.Code != "unauthorized" {
		t.Fatalf("wrong password: %d %+v", r.StatusCode, eb)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"username": "nobody", "password": "x"}, &eb); r.StatusCode != 401 {
		t.Fatalf("unknown user: %d", r.StatusCode)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", "", "not an object", &eb); r.StatusCode != 400 || eb.Error.Code != "bad_request" {
		t.Fatalf("bad body: %d %+v", r.StatusCode, eb)
	}
	tok := e.login("agent")
	var st map[string]any
	if r := e.do("PUT", "/api/v1/agent/status", tok, "", map[string]any{}, &st); r.StatusCode != 200 || st["status"] != "notready" {
		t.Fatalf("read status: %d %v", r.StatusCode, st)
	}
	if r := e.do("PUT", "/api/v1/agent/status", tok, "", map[string]any{"status": "offline"}, &eb); r.StatusCode != 400 {
		t.Fatalf("offline is server-only: %d", r.StatusCode)
	}
	if r := e.do("PUT", "/api/v1/agent/status", tok, "", map[string]any{"status": "ready"}, &st); r.StatusCode != 200 || st["status"] != "ready" || st["busy"] != false {
		t.Fatalf("ready: %d %v", r.StatusCode, st)
	}
	if r := e.do("PUT", "/api/v1/agent/status", tok+"x", "", map[string]any{"status": "ready"}, &eb); r.StatusCode != 401 {
		t.Fatalf("forged token: %d", r.StatusCode)
	}
	if r := e.do("GET", "/api/v1/agent/sessions", "", "", nil, &eb); r.StatusCode != 401 {
		t.Fatalf("no token: %d", r.StatusCode)
	}
	if r := e.do("POST", "/api/v1/auth/logout", tok, "", nil, nil); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if r := e.do("GET", "/api/v1/agent/sessions", tok, "", nil, &eb); r.StatusCode != 401 {
		t.Fatalf("token still valid after logout: %d", r.StatusCode)
	}
}

func TestVisitorIdentity(t *testing.T) {
	e := newEnv(t, 2)
	var id visitorIdentity
	if r := e.do("POST", "/im/demo/visitor", "", "", nil, &id); r.StatusCode != 200 || !e.signer.Verify("demo", id.UserID, id.Sign) {
		t.Fatalf("issue: %d %+v", r.StatusCode, id)
	}
	var again visitorIdentity
	e.do("POST", "/im/demo/visitor", "", "", id, &again)
	if again != id {
		t.Fatalf("returning visitor got a new identity: %+v", again)
	}
	var fresh visitorIdentity
	e.do("POST", "/im/demo/visitor", "", "", visitorIdentity{UserID: id.UserID, Sign: "forged"}, &fresh)
	if fresh.UserID == id.UserID {
		t.Fatal("forged sign kept the identity")
	}
	// Two fresh identities were issued from this IP: the limit is 2 a minute.
	var eb errBody
	if r := e.do("POST", "/im/demo/visitor", "", "", nil, &eb); r.StatusCode != 429 || eb.Error.Code != "rate_limited" {
		t.Fatalf("rate limit: %d %+v", r.StatusCode, eb)
	}
	// A returning visitor is never limited.
	if r := e.do("POST", "/im/demo/visitor", "", "", id, nil); r.StatusCode != 200 {
		t.Fatalf("returning visitor limited: %d", r.StatusCode)
	}
	if r := e.do("POST", "/im/nope/visitor", "", "", nil, &eb); r.StatusCode != 404 || eb.Error.Code != "not_found" {
		t.Fatalf("unknown appid: %d %+v", r.StatusCode, eb)
	}
	// An identity of one site is worthless on another.
	if r := e.do("GET", "/im/shop/messages?userid="+id.UserID+"&sign="+id.Sign, "", "", nil, &eb); r.StatusCode != 401 {
		t.Fatalf("cross-site history: %d", r.StatusCode)
	}
	var msgs []any
	if r := e.do("GET", "/im/demo/messages?userid="+id.UserID+"&sign="+id.Sign, "", "", nil, &msgs); r.StatusCode != 200 || len(msgs) != 0 {
		t.Fatalf("own empty history: %d %v", r.StatusCode, msgs)
	}
}

func TestOrigins(t *testing.T) {
	e := newEnv(t, 30)
	check := func(method, path, origin string, want int) *http.Response {
		t.Helper()
		r := e.do(method, path, "", origin, nil, nil)
		if r.StatusCode != want {
			t.Fatalf("%s %s from %q: %d, want %d", method, path, origin, r.StatusCode, want)
		}
		return r
	}
	r := check("POST", "/im/shop/visitor", "https://shop.example", 200)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("CORS header: %v", r.Header)
	}
	check("POST", "/im/shop/visitor", "https://evil.example", 403)
	check("POST", "/im/demo/visitor", "https://anything.example", 200) // demo allows *
	check("POST", "/api/v1/auth/login", "https://evil.example", 403)
	check("POST", "/api/v1/auth/login", "https://shop.example", 403) // a site's origin is not staff
	r = check("OPTIONS", "/api/v1/auth/login", "https://admin.example", 204)
	if !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight headers: %v", r.Header)
	}
	check("GET", "/socket.io/?EIO=3&transport=polling&appid=shop", "https://evil.example", 403)
	check("OPTIONS", "/socket.io/?EIO=3&transport=polling&appid=shop", "https://shop.example", 204)
	// Same-origin pages of the gateway itself are always fine.
	check("POST", "/api/v1/auth/login", e.srv.URL, 400)
}

func TestAdminEndpoints(t *testing.T) {
	e := newEnv(t, 30)
	admin, agent := e.login("admin"), e.login("agent")
	var eb errBody
	if r := e.do("POST", "/api/v1/admin/agents", agent, "", map[string]any{"username": "x", "password": "secret-pass-1"}, &eb); r.StatusCode != 403 {
		t.Fatalf("agent acting as admin: %d", r.StatusCode)
	}
	var sk map[string]any
	if r := e.do("POST", "/api/v1/admin/skills", admin, "", map[string]any{"name": "Sales"}, &sk); r.StatusCode != 201 {
		t.Fatalf("skill: %d", r.StatusCode)
	}
	var created map[string]any
	body := map[string]any{"username": "bob", "password": "secret-pass-1", "nickname": "Bob", "maxuser": 3, "skills": []string{sk["id"].(string)}}
	if r := e.do("POST", "/api/v1/admin/agents", admin, "", body, &created); r.StatusCode != 201 || created["id"] == "" {
		t.Fatalf("create agent: %d %v", r.StatusCode, created)
	}
	if r := e.do("POST", "/api/v1/admin/agents", admin, "", body, &eb); r.StatusCode != 409 || eb.Error.Code != "conflict" {
		t.Fatalf("duplicate username: %d %+v", r.StatusCode, eb)
	}
	for _, bad := range []map[string]any{
		{"username": "has space", "password": "secret-pass-1"},
		{"username": "ok", "password": "short"},
		{"username": "ok2", "password": "secret-pass-1", "roles": []string{"superadmin"}},
		{"username": "ok3", "password": "secret-pass-1", "skills": []string{"nope"}},
	} {
		if r := e.do("POST", "/api/v1/admin/agents", admin, "", bad, &eb); r.StatusCode != 400 {
			t.Fatalf("%v accepted: %d", bad, r.StatusCode)
		}
	}
	var list []map[string]any
	e.do("GET", "/api/v1/admin/agents", admin, "", nil, &list)
	if len(list) != 3 {
		t.Fatalf("agents: %v", list)
	}
	var site map[string]any
	if r := e.do("POST", "/api/v1/admin/sites", admin, "", map[string]any{"name": "Blog", "origins": []string{"https://blog.example"}, "config": map[string]any{"sneakpeek": true}}, &site); r.StatusCode != 201 {
		t.Fatalf("create site: %d", r.StatusCode)
	}
	if !strings.Contains(site["embed"].(string), "https://kefu.example/im/"+site["appid"].(string)+".js") {
		t.Fatalf("embed: %v", site["embed"])
	}
	if r := e.do("POST", "/api/v1/admin/sites", admin, "", map[string]any{"name": "X", "origins": []string{"https://a.example/path"}}, &eb); r.StatusCode != 400 {
		t.Fatalf("origin with a path accepted: %d", r.StatusCode)
	}
	if r := e.do("PUT", "/api/v1/admin/sites/"+site["appid"].(string), admin, "", map[string]any{"name": "Blog 2", "origins": []string{"*"}}, &site); r.StatusCode != 200 || site["name"] != "Blog 2" {
		t.Fatalf("update site: %d %v", r.StatusCode, site)
	}
	if r := e.do("PUT", "/api/v1/admin/sites/nope", admin, "", map[string]any{"name": "N"}, &eb); r.StatusCode != 404 {
		t.Fatalf("update unknown site: %d", r.StatusCode)
	}
}

func TestSessionConfigEndpoints(t *testing.T) {
	e := newEnv(t, 30)
	admin, agent := e.login("admin"), e.login("agent")
	var eb errBody
	if r := e.do("PUT", "/api/v1/admin/sessionconfig", agent, "", map[string]any{"distribution": "idle"}, &eb); r.StatusCode != 403 {
		t.Fatalf("agent changing settings: %d", r.StatusCode)
	}
	for _, bad := range []map[string]any{
		{"distribution": "random"}, {"maxuser": -1}, {"initmaxuser": 5000},
		{"timeout": -1}, {"quenetimeout": 90000}, {"workinghours": "9-18"}, {"lang": "fr"},
		{"prompts": map[string]string{"nope": "x"}}, {"prompts": map[string]string{"successmsg": strings.Repeat("x", 501)}},
	} {
		if r := e.do("PUT", "/api/v1/admin/sessionconfig", admin, "", bad, &eb); r.StatusCode != 400 {
			t.Fatalf("%v accepted: %d", bad, r.StatusCode)
		}
	}
	if r := e.do("PUT", "/api/v1/admin/sessionconfig", admin, "", map[string]any{"skill": "nope", "maxuser": 3}, &eb); r.StatusCode != 404 {
		t.Fatalf("unknown skill: %d", r.StatusCode)
	}
	var sk map[string]any
	e.do("POST", "/api/v1/admin/skills", admin, "", map[string]any{"name": "VIP"}, &sk)
	if r := e.do("PUT", "/api/v1/admin/sessionconfig", admin, "", map[string]any{"skill": sk["id"], "lang": "en"}, &eb); r.StatusCode != 400 {
		t.Fatalf("a group's lang: %d", r.StatusCode)
	}
	for _, body := range []map[string]any{
		{"distribution": "round", "lastagent": true, "maxuser": 4, "initmaxuser": 2, "timeout": 120, "retimeout": 60,
			"workinghours": "09:00~18:00", "lang": "en", "prompts": map[string]string{"successmsg": "Hi, {agent} here."}},
		{"skill": sk["id"], "distribution": "idle", "timeout": -1},
	} {
		if r := e.do("PUT", "/api/v1/admin/sessionconfig", admin, "", body, nil); r.StatusCode != 200 {
			t.Fatalf("save %v: %d", body, r.StatusCode)
		}
	}
	var got []sessionConfig
	e.do("GET", "/api/v1/admin/sessionconfig", admin, "", nil, &got)
	if len(got) != 2 || got[0].Skill != "" || got[0].Distribution != "round" || got[0].LastAgent == nil || !*got[0].LastAgent ||
		got[0].MaxUser != 4 || got[1].Skill != sk["id"] || got[1].Distribution != "idle" || got[1].LastAgent != nil ||
		got[0].VisitorIdleWarn != 120 || got[0].WorkingHours != "09:00~18:00" || got[0].Lang != "en" ||
		got[0].Prompts["successmsg"] != "Hi, {agent} here." || got[1].VisitorIdleWarn != -1 {
		t.Fatalf("settings: %+v", got)
	}
	texts, err := e.st.Prompts(t.Context(), demo.Tenant)
	if err != nil || texts.Text(prompt.Assigned, "Ann", 0) != "Hi, Ann here." || texts.Text(prompt.Ended, "", 0) != "The agent has ended this chat." {
		t.Fatalf("stored prompts: %v", err)
	}
}

func TestUpdateAgentsAndSkills(t *testing.T) {
	e := newEnv(t, 30)
	admin := e.login("admin")
	agentTok := e.login("agent")
	var list []map[string]any
	e.do("GET", "/api/v1/admin/agents", admin, "", nil, &list)
	var agentID, adminID string
	for _, a := range list {
		switch a["username"] {
		case "agent":
			agentID = a["id"].(string)
		case "admin":
			adminID = a["id"].(string)
		}
	}
	var sk map[string]any
	e.do("POST", "/api/v1/admin/skills", admin, "", map[string]any{"name": "Sales"}, &sk)
	var got map[string]any
	body := map[string]any{"nickname": "Agent Jones", "maxuser": 7, "skills": []string{sk["id"].(string)}}
	if r := e.do("PUT", "/api/v1/admin/agents/"+agentID, admin, "", body, &got); r.StatusCode != 200 ||
		got["nickname"] != "Agent Jones" || got["maxuser"] != float64(7) || len(got["skills"].([]any)) != 1 {
		t.Fatalf("update: %d %v", r.StatusCode, got)
	}
	// The login survives an edit that is neither a password nor disabling.
	if r := e.do("GET", "/api/v1/agent/sessions", agentTok, "", nil, nil); r.StatusCode != 200 {
		t.Fatalf("token after a nickname change: %d", r.StatusCode)
	}
	var eb errBody
	for _, bad := range []map[string]any{{"maxuser": -2}, {"roles": []string{}}, {"roles": []string{"superadmin"}}, {"password": "123"}, {"skills": []string{"nope"}}} {
		if r := e.do("PUT", "/api/v1/admin/agents/"+agentID, admin, "", bad, &eb); r.StatusCode != 400 {
			t.Fatalf("%v accepted: %d", bad, r.StatusCode)
		}
	}
	if r := e.do("PUT", "/api/v1/admin/agents/"+adminID, admin, "", map[string]any{"disabled": true}, &eb); r.StatusCode != 409 {
		t.Fatalf("self-disable: %d", r.StatusCode)
	}
	if r := e.do("PUT", "/api/v1/admin/agents/nope", admin, "", map[string]any{"maxuser": 1}, &eb); r.StatusCode != 404 {
		t.Fatalf("unknown agent: %d", r.StatusCode)
	}
	// Disabling ends the agent's logins and refuses new ones.
	if r := e.do("PUT", "/api/v1/admin/agents/"+agentID, admin, "", map[string]any{"disabled": true}, &got); r.StatusCode != 200 || got["disabled"] != true {
		t.Fatalf("disable: %d %v", r.StatusCode, got)
	}
	if r := e.do("GET", "/api/v1/agent/sessions", agentTok, "", nil, &eb); r.StatusCode != 401 {
		t.Fatalf("disabled agent's token: %d", r.StatusCode)
	}
	if r := e.do("POST", "/api/v1/auth/login", "", "", map[string]string{"username": "agent", "password": password}, &eb); r.StatusCode != 403 {
		t.Fatalf("disabled agent's login: %d", r.StatusCode)
	}
	// Skill groups.
	if r := e.do("PUT", "/api/v1/admin/skills/"+sk["id"].(string), admin, "", map[string]any{"maxuser": 3, "disabled": true}, &got); r.StatusCode != 200 || got["maxuser"] != float64(3) || got["disabled"] != true || got["name"] != "Sales" {
		t.Fatalf("update skill: %d %v", r.StatusCode, got)
	}
	if r := e.do("PUT", "/api/v1/admin/skills/nope", admin, "", map[string]any{"maxuser": 3}, &eb); r.StatusCode != 404 {
		t.Fatalf("unknown skill: %d", r.StatusCode)
	}
	if r := e.do("PUT", "/api/v1/admin/skills/"+sk["id"].(string), admin, "", map[string]any{"name": ""}, &eb); r.StatusCode != 400 {
		t.Fatalf("empty name: %d", r.StatusCode)
	}
}

func TestQueueView(t *testing.T) {
	e := newEnv(t, 30)
	admin, agent := e.login("admin"), e.login("agent")
	for i, user := range []string{"v1", "v2"} {
		s := &store.Session{Orgi: demo.Tenant, AppID: demo.AppID, UserID: user, Skill: "sk", CreatedAt: time.Now().Add(time.Duration(i-10) * time.Second)}
		if err := e.st.CreateSession(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	var eb errBody
	if r := e.do("GET", "/api/v1/queue", agent, "", nil, &eb); r.StatusCode != 403 {
		t.Fatalf("agent reading the queue: %d", r.StatusCode)
	}
	var q []queueEntry
	if r := e.do("GET", "/api/v1/queue", admin, "", nil, &q); r.StatusCode != 200 || len(q) != 2 || q[0].UserID != "v1" || q[0].Skill != "sk" || q[0].Waiting < 9 {
		t.Fatalf("queue: %v", q)
	}
}
