package node_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// answer is a response with its decoded error, if any.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    protocol.Error
}

// send is a request with the headers a browser or a proxy adds.
func send(t *testing.T, n *nodetest.Node, method, path, token string, body any, header map[string]string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	a.body, _ = io.ReadAll(resp.Body)
	var e struct {
		Error protocol.Error `json:"error"`
	}
	if json.Unmarshal(a.body, &e) == nil {
		a.err = e.Error
	}
	return a
}

func login(t *testing.T, n *nodetest.Node, username, password string, header map[string]string) answer {
	t.Helper()
	return send(t, n, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, header)
}

func agentID(t *testing.T, n *nodetest.Node, username string) string {
	t.Helper()
	a, err := n.Store.GetAgentByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

type auditPage struct {
	Entries []struct {
		ID        int64  `json:"id"`
		Actor     string `json:"actor"`
		ActorName string `json:"actorname"`
		Action    string `json:"action"`
		Target    string `json:"target"`
		Detail    string `json:"detail"`
		IP        string `json:"ip"`
	} `json:"entries"`
	Next string `json:"next"`
}

func audit(t *testing.T, n *nodetest.Node, token, query string) auditPage {
	t.Helper()
	var p auditPage
	if r := n.Do(http.MethodGet, "/api/v1/admin/audit?"+query, token, nil, &p); r.StatusCode != http.StatusOK {
		t.Fatalf("audit?%s: %d", query, r.StatusCode)
	}
	return p
}

// TestAccountLockout runs on SQLite: the store's tests run the counters
// on both backends, gateways racing included.
func TestAccountLockout(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	id := agentID(t, n, demo.Agent)
	for i := range 4 {
		if a := login(t, n, demo.Agent, "wrong", nil); a.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i+1, a.status, a.body)
		}
	}
	// The fifth failure locks the account, with a clear answer.
	a := login(t, n, demo.Agent, "wrong", nil)
	retry, _ := strconv.Atoi(a.header.Get("Retry-After"))
	if a.status != http.StatusTooManyRequests || a.err.Code != protocol.CodeLocked || retry < 890 || retry > 900 ||
		!strings.Contains(a.err.Message, "try again after") {
		t.Fatalf("fifth failure: %d %s Retry-After %q", a.status, a.body, a.header.Get("Retry-After"))
	}
	// The right password is refused until the lock ends.
	if a := login(t, n, demo.Agent, nodetest.Password, nil); a.status != http.StatusTooManyRequests || a.err.Code != protocol.CodeLocked {
		t.Fatalf("right password while locked: %d %s", a.status, a.body)
	}
	// An unknown username gets the very same answers.
	for i := range 5 {
		a := login(t, n, "nobody-at-all", "wrong", nil)
		if want := map[bool]int{false: http.StatusUnauthorized, true: http.StatusTooManyRequests}[i == 4]; a.status != want {
			t.Fatalf("unknown user, failure %d: %d %s", i+1, a.status, a.body)
		}
	}
	// The admin sees the lock and lifts it.
	var list struct {
		Lock struct {
			Failures int  `json:"failures"`
			Locked   bool `json:"locked"`
		} `json:"lock"`
		Policy struct {
			AccountFailures int `json:"accountfailures"`
		} `json:"policy"`
	}
	n.Do(http.MethodGet, "/api/v1/admin/agents/"+id+"/logins", admin, nil, &list)
	if !list.Lock.Locked || list.Lock.Failures != 5 || list.Policy.AccountFailures != 5 {
		t.Fatalf("admin's view of the lock: %+v", list)
	}
	if r := n.Do(http.MethodDelete, "/api/v1/admin/agents/"+id+"/lock", admin, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("unlock: %d", r.StatusCode)
	}
	if a := login(t, n, demo.Agent, nodetest.Password, nil); a.status != http.StatusOK {
		t.Fatalf("login after unlock: %d %s", a.status, a.body)
	}
	// Both are in the tenant's audit log; the unknown name is not.
	p := audit(t, n, admin, "action=auth.lockout")
	if len(p.Entries) != 1 || p.Entries[0].Target != id || p.Entries[0].ActorName != demo.Agent {
		t.Fatalf("lockout entries: %+v", p.Entries)
	}
	p = audit(t, n, admin, "action=agents.lock")
	if len(p.Entries) != 1 || p.Entries[0].Action != "agents.lock.delete" || p.Entries[0].Target != id || p.Entries[0].Actor != agentID(t, n, demo.Admin) {
		t.Fatalf("unlock entries: %+v", p.Entries)
	}
}

func TestAddressLockout(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{TrustProxy: true, SignIn: throttle.Policy{AddressFailures: 3}})
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
	for i, name := range []string{"u1", "u2"} {
		if a := login(t, n, name, "wrong", from("203.0.113.5")); a.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i+1, a.status, a.body)
		}
	}
	a := login(t, n, "u3", "wrong", from("203.0.113.5"))
	if a.status != http.StatusTooManyRequests || !strings.Contains(a.err.Message, "from this address") || a.header.Get("Retry-After") == "" {
		t.Fatalf("third failure from one address: %d %s", a.status, a.body)
	}
	// Any account from that address is refused, the right password too;
	// another address is not.
	if a := login(t, n, demo.Admin, nodetest.Password, from("203.0.113.5")); a.status != http.StatusTooManyRequests {
		t.Fatalf("right password from the locked address: %d %s", a.status, a.body)
	}
	if a := login(t, n, demo.Admin, nodetest.Password, from("203.0.113.6")); a.status != http.StatusOK {
		t.Fatalf("another address: %d %s", a.status, a.body)
	}
}

type loginsAnswer struct {
	Logins []struct {
		ID        string `json:"id"`
		IP        string `json:"ip"`
		UserAgent string `json:"useragent"`
		Current   bool   `json:"current"`
	} `json:"logins"`
}

func TestSignedInSessions(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	id := agentID(t, n, demo.Agent)
	token := func(ua string) string {
		t.Helper()
		a := login(t, n, demo.Agent, nodetest.Password, map[string]string{"User-Agent": ua})
		var out struct {
			Token string `json:"token"`
		}
		if a.status != http.StatusOK || json.Unmarshal(a.body, &out) != nil {
			t.Fatalf("login: %d %s", a.status, a.body)
		}
		return out.Token
	}
	laptop, phone := token("Laptop/1.0"), token("Phone/2.0")
	sock := n.Record(protocol.NamespaceAgent, url.Values{"token": {laptop}})

	// The user's own list marks the login asking; no token or hash shows.
	var mine loginsAnswer
	a := send(t, n, http.MethodGet, "/api/v1/auth/logins", phone, nil, nil)
	if json.Unmarshal(a.body, &mine) != nil || len(mine.Logins) != 2 || !mine.Logins[0].Current || mine.Logins[0].UserAgent != "Phone/2.0" ||
		mine.Logins[1].Current || mine.Logins[1].UserAgent != "Laptop/1.0" || len(mine.Logins[0].ID) != 16 || mine.Logins[0].IP == "" {
		t.Fatalf("own logins: %s", a.body)
	}
	if strings.Contains(string(a.body), phone) || strings.Contains(string(a.body), laptop) {
		t.Fatalf("a token in the list: %s", a.body)
	}
	laptopID := mine.Logins[1].ID

	// The admin revokes the laptop's login: its token stops working and its
	// socket gets leave; the phone stays signed in.
	var theirs loginsAnswer
	n.Do(http.MethodGet, "/api/v1/admin/agents/"+id+"/logins", admin, nil, &theirs)
	if len(theirs.Logins) != 2 || theirs.Logins[0].Current || theirs.Logins[1].Current {
		t.Fatalf("admin's list: %+v", theirs)
	}
	mark := sock.Len()
	if r := n.Do(http.MethodDelete, "/api/v1/admin/agents/"+id+"/logins/"+laptopID, admin, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	sock.WaitFor(mark, protocol.EventLeave, func(a json.RawMessage) bool { return hasField(a, "reason", "revoked") }, wait)
	if r := n.Do(http.MethodGet, "/api/v1/auth/logins", laptop, nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", r.StatusCode)
	}
	if r := n.Do(http.MethodGet, "/api/v1/auth/logins", phone, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("other login after revoke: %d", r.StatusCode)
	}
	for _, path := range []string{"/api/v1/admin/agents/" + id + "/logins/" + laptopID, "/api/v1/auth/logins/0123456789abcdef"} {
		if a := send(t, n, http.MethodDelete, path, admin, nil, nil); a.status != http.StatusNotFound {
			t.Fatalf("DELETE %s: %d %s", path, a.status, a.body)
		}
	}
	// Another tenant's admin cannot see or touch them.
	_, other := n.Staff("other-tenant", "otheradmin", protocol.RoleAdmin, 0)
	if r := n.Do(http.MethodGet, "/api/v1/admin/agents/"+id+"/logins", other, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("another tenant's admin: %d", r.StatusCode)
	}
	// The user ends their own login.
	n.Do(http.MethodGet, "/api/v1/auth/logins", phone, nil, &mine)
	if r := n.Do(http.MethodDelete, "/api/v1/auth/logins/"+mine.Logins[0].ID, phone, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("own revoke: %d", r.StatusCode)
	}
	if r := n.Do(http.MethodGet, "/api/v1/auth/logins", phone, nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("own revoked token: %d", r.StatusCode)
	}
	// Revoke all.
	t1, t2 := token("A"), token("B")
	if r := n.Do(http.MethodDelete, "/api/v1/admin/agents/"+id+"/logins", admin, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke all: %d", r.StatusCode)
	}
	for _, tok := range []string{t1, t2} {
		if r := n.Do(http.MethodGet, "/api/v1/auth/logins", tok, nil, nil); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token after revoke all: %d", r.StatusCode)
		}
	}
	p := audit(t, n, admin, "action=agents.logins")
	if len(p.Entries) != 2 || p.Entries[0].Target != id || p.Entries[1].Target != id {
		t.Fatalf("revocations in the audit log: %+v", p.Entries)
	}
}

func TestAuditLog(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{TrustProxy: true})
	admin := n.Admin()
	adminID := agentID(t, n, demo.Admin)
	xff := map[string]string{"X-Forwarded-For": "198.51.100.9"}
	body := map[string]any{"username": "newbie", "password": "Very-Secret-42", "nickname": "新人", "roles": []string{"agent"}}
	if a := send(t, n, http.MethodPost, "/api/v1/admin/agents", admin, body, xff); a.status != http.StatusCreated && a.status != http.StatusOK {
		t.Fatalf("create agent: %d %s", a.status, a.body)
	}
	var skill struct {
		ID string `json:"id"`
	}
	if r := n.Do(http.MethodPost, "/api/v1/admin/skills", admin, map[string]any{"name": "Sales"}, &skill); r.StatusCode/100 != 2 {
		t.Fatalf("create skill: %d", r.StatusCode)
	}
	if r := n.Do(http.MethodPut, "/api/v1/admin/skills/"+skill.ID, admin, map[string]any{"name": "Sales EMEA"}, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("rename skill: %d", r.StatusCode)
	}
	// A refused change and a read are not recorded.
	if r := n.Do(http.MethodPost, "/api/v1/admin/skills", admin, map[string]any{"name": ""}, nil); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad skill: %d", r.StatusCode)
	}
	n.Do(http.MethodGet, "/api/v1/admin/skills", admin, nil, nil)

	p := audit(t, n, admin, "")
	if len(p.Entries) != 3 {
		t.Fatalf("entries: %+v", p.Entries)
	}
	upd, sk, ag := p.Entries[0], p.Entries[1], p.Entries[2]
	if upd.Action != "skills.update" || upd.Target != skill.ID || !strings.Contains(upd.Detail, "Sales EMEA") || sk.Action != "skills.create" || sk.Target != skill.ID {
		t.Errorf("skill entries: %+v %+v", upd, sk)
	}
	if ag.Action != "agents.create" || ag.Actor != adminID || ag.ActorName != "Admin" || ag.IP != "198.51.100.9" ||
		!strings.Contains(ag.Detail, `"password":"***"`) || strings.Contains(ag.Detail, "Very-Secret-42") || !strings.Contains(ag.Detail, "新人") {
		t.Errorf("agent entry: %+v", ag)
	}
	// Filters and pages.
	if f := audit(t, n, admin, "action=skills&q=EMEA"); len(f.Entries) != 1 || f.Entries[0].Action != "skills.update" {
		t.Errorf("filtered: %+v", f.Entries)
	}
	first := audit(t, n, admin, "limit=2")
	if len(first.Entries) != 2 || first.Next == "" {
		t.Fatalf("first page: %+v", first)
	}
	if rest := audit(t, n, admin, "limit=2&before="+url.QueryEscape(first.Next)); len(rest.Entries) != 1 || rest.Entries[0].Action != "agents.create" || rest.Next != "" {
		t.Errorf("second page: %+v", rest)
	}
	if a := send(t, n, http.MethodGet, "/api/v1/admin/audit?from=yesterday", admin, nil, nil); a.status != http.StatusBadRequest {
		t.Errorf("bad from: %d", a.status)
	}
	// The CSV: a BOM, a header, the rows newest first.
	a := send(t, n, http.MethodGet, "/api/v1/admin/audit/export.csv?action=agents", admin, nil, nil)
	csv := string(a.body)
	if a.status != http.StatusOK || !strings.HasPrefix(csv, "\uFEFFtime_utc,actor_id,actor,action,target,ip,detail\n") ||
		!strings.Contains(csv, ",agents.create,") || !strings.Contains(csv, "新人") || strings.Contains(csv, "skills.") ||
		!strings.Contains(a.header.Get("Content-Disposition"), "kefu-audit-") {
		t.Errorf("export: %d %q", a.status, csv)
	}
	// Only admins read it.
	_, agentTok := n.Staff(demo.Tenant, "plain", protocol.RoleAgent, 1)
	if r := n.Do(http.MethodGet, "/api/v1/admin/audit", agentTok, nil, nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("an agent reads the audit log: %d", r.StatusCode)
	}
	// Another tenant's admin sees its own log only.
	_, other := n.Staff("other-tenant", "otheradmin", protocol.RoleAdmin, 0)
	if p := audit(t, n, other, ""); len(p.Entries) != 0 {
		t.Errorf("another tenant's log: %+v", p.Entries)
	}
}
