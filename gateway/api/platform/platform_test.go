package platform_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/api/platform"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

type apiError struct {
	Error protocol.Error `json:"error"`
}

// expect sends a request and checks the status and, for errors, that the
// message contains want.
func expect(t *testing.T, n *nodetest.Node, method, path, token string, body any, status int, want string) {
	t.Helper()
	var out apiError
	resp := n.Do(method, path, token, body, &out)
	if resp.StatusCode != status || !strings.Contains(out.Error.Message, want) {
		t.Errorf("%s %s %v: %d %+v, want %d %q", method, path, body, resp.StatusCode, out.Error, status, want)
	}
}

func eachBackend(t *testing.T, fn func(t *testing.T, n *nodetest.Node)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, nodetest.Start(t, nodetest.Options{})) })
	t.Run("mysql", func(t *testing.T) { t.Parallel(); fn(t, nodetest.Start(t, nodetest.Options{MySQL: true})) })
}

func TestPlatformTenantsNeedSuperadmin(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	_, admin := n.Staff(demo.Tenant, "boss", protocol.RoleAdmin, 0)
	body := platform.NewTenant{ID: "acme", Name: "Acme", Admin: platform.NewAdmin{Username: "alice", Password: "acme-admin-pass-1"}}
	for _, r := range []struct {
		method, path string
		body         any
	}{{http.MethodGet, "/api/v1/platform/tenants", nil}, {http.MethodPost, "/api/v1/platform/tenants", body}, {http.MethodPut, "/api/v1/platform/tenants/demo", map[string]any{"name": "x"}}} {
		expect(t, n, r.method, r.path, "", r.body, http.StatusUnauthorized, "token")
		expect(t, n, r.method, r.path, admin, r.body, http.StatusForbidden, "needs role superadmin")
	}
	if _, err := n.Store.GetTenant(context.Background(), "acme"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a tenant admin created a tenant: %v", err)
	}
}

func TestPlatformCreateListUpdate(t *testing.T) {
	eachBackend(t, func(t *testing.T, n *nodetest.Node) {
		_, root := n.Staff(demo.Tenant, "root", "admin,superadmin", 0)
		const path = "/api/v1/platform/tenants"
		var created platform.Created
		resp := n.Do(http.MethodPost, path, root, platform.NewTenant{
			ID: "acme", Name: " Acme Ltd ", TimeZone: "Asia/Shanghai",
			Admin: platform.NewAdmin{Username: "alice", Password: "acme-admin-pass-1", Nickname: "Alice"},
		}, &created)
		if resp.StatusCode != http.StatusCreated || created.Tenant.ID != "acme" || created.Tenant.Name != "Acme Ltd" || created.Tenant.TimeZone != "Asia/Shanghai" ||
			created.Admin.Username != "alice" || created.Admin.Nickname != "Alice" || len(created.Admin.Roles) != 1 || created.Admin.Roles[0] != protocol.RoleAdmin {
			t.Fatalf("create: %d %+v", resp.StatusCode, created)
		}
		// The new admin can sign in, as an admin of the new tenant only.
		var login struct {
			Token string `json:"token"`
			Agent struct {
				Orgi  string   `json:"orgi"`
				Roles []string `json:"roles"`
			} `json:"agent"`
		}
		if resp := n.Do(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "alice", "password": "acme-admin-pass-1"}, &login); resp.StatusCode != http.StatusOK || login.Agent.Orgi != "acme" {
			t.Fatalf("new admin login: %d %+v", resp.StatusCode, login)
		}
		expect(t, n, http.MethodGet, path, login.Token, nil, http.StatusForbidden, "superadmin")

		good := func(edit func(*platform.NewTenant)) platform.NewTenant {
			b := platform.NewTenant{ID: "beta", Name: "Beta", Admin: platform.NewAdmin{Username: "bob", Password: "bob-password-1"}}
			edit(&b)
			return b
		}
		for _, c := range []struct {
			body   any
			status int
			want   string
		}{
			{good(func(b *platform.NewTenant) { b.ID = "Beta!" }), http.StatusBadRequest, "tenant id must be"},
			{good(func(b *platform.NewTenant) { b.Name = " " }), http.StatusBadRequest, "tenant name must be 1 to 128"},
			{good(func(b *platform.NewTenant) { b.TimeZone = "Mars/Olympus" }), http.StatusBadRequest, "unknown time zone"},
			{good(func(b *platform.NewTenant) { b.Admin.Username = "" }), http.StatusBadRequest, "username must be"},
			{good(func(b *platform.NewTenant) { b.Admin.Password = "short" }), http.StatusBadRequest, "at least 8 characters"},
			{good(func(b *platform.NewTenant) { b.ID = "acme" }), http.StatusConflict, `tenant id "acme" is taken`},
			{good(func(b *platform.NewTenant) { b.Admin.Username = "Alice" }), http.StatusConflict, `username "Alice" is taken`},
			{"not an object", http.StatusBadRequest, "invalid JSON body"},
		} {
			expect(t, n, http.MethodPost, path, root, c.body, c.status, c.want)
		}
		var beta platform.Created
		if resp := n.Do(http.MethodPost, path, root, good(func(*platform.NewTenant) {}), &beta); resp.StatusCode != http.StatusCreated || beta.Tenant.TimeZone != "UTC" {
			t.Fatalf("default time zone: %d %+v", resp.StatusCode, beta)
		}

		var list []platform.Tenant
		if resp := n.Do(http.MethodGet, path, root, nil, &list); resp.StatusCode != http.StatusOK || len(list) != 3 {
			t.Fatalf("list: %d %+v", resp.StatusCode, list)
		}
		ids := []string{list[0].ID, list[1].ID, list[2].ID}
		if strings.Join(ids, ",") != "demo,acme,beta" || list[1].CreateTime == (protocol.Time{}) {
			t.Fatalf("list order or fields: %+v", list)
		}

		var upd platform.Tenant
		if resp := n.Do(http.MethodPut, path+"/acme", root, map[string]any{"name": "Acme Group", "timezone": "Europe/Berlin"}, &upd); resp.StatusCode != http.StatusOK ||
			upd.Name != "Acme Group" || upd.TimeZone != "Europe/Berlin" || upd.Disabled {
			t.Fatalf("rename: %d %+v", resp.StatusCode, upd)
		}
		for _, c := range []struct {
			path   string
			body   any
			status int
			want   string
		}{
			{"/acme", map[string]any{}, http.StatusBadRequest, "nothing to change"},
			{"/acme", map[string]any{"timezone": "Nowhere/City"}, http.StatusBadRequest, "unknown time zone"},
			{"/acme", map[string]any{"name": strings.Repeat("名", 129)}, http.StatusBadRequest, "1 to 128"},
			{"/acme", map[string]any{"disabled": "yes"}, http.StatusBadRequest, "invalid JSON body"},
			{"/nope", map[string]any{"name": "x"}, http.StatusNotFound, `tenant "nope" not found`},
			{"/demo", map[string]any{"disabled": true}, http.StatusForbidden, "cannot disable its own tenant"},
		} {
			expect(t, n, http.MethodPut, path+c.path, root, c.body, c.status, c.want)
		}
		if got, _ := n.Store.GetTenant(context.Background(), "acme"); got.Name != "Acme Group" || got.TimeZone != "Europe/Berlin" {
			t.Fatalf("stored %+v", got)
		}
	})
}

// Disabling a tenant refuses its logins, tokens, sockets and widget, and
// closes its agents' and visitors' open sockets; other tenants go on.
func TestPlatformDisableEndsEverything(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	ctx := context.Background()
	_, root := n.Staff(demo.Tenant, "root", "admin,superadmin", 0)
	const path = "/api/v1/platform/tenants"
	if resp := n.Do(http.MethodPost, path, root, platform.NewTenant{ID: "acme", Name: "Acme", Admin: platform.NewAdmin{Username: "alice", Password: "acme-admin-pass-1"}}, nil); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	site := store.Site{AppID: "acmesite", Orgi: "acme", Name: "Acme site"}
	if err := n.Store.CreateSite(ctx, &site); err != nil {
		t.Fatal(err)
	}
	visitor := func(userID string) url.Values {
		return url.Values{"appid": {site.AppID}, "userid": {userID}, "sign": {n.Signer.Sign(site.AppID, userID)}}
	}
	alice := n.Login("alice", "acme-admin-pass-1")
	agentSock := n.Record(protocol.NamespaceAgent, url.Values{"token": {alice}})
	imSock := n.Record(protocol.NamespaceIM, url.Values{"token": {alice}})
	visitorSock := n.Record(protocol.NamespaceUser, visitor("v1"))
	// The demo tenant's sockets must stay.
	_, demoToken := n.Staff(demo.Tenant, "demo-agent", protocol.RoleAgent, 0)
	demoAgent := n.Record(protocol.NamespaceAgent, url.Values{"token": {demoToken}})
	demoVisitor := n.Record(protocol.NamespaceUser, n.Visitor("dv1"))

	var upd platform.Tenant
	if resp := n.Do(http.MethodPut, path+"/acme", root, map[string]any{"disabled": true}, &upd); resp.StatusCode != http.StatusOK || !upd.Disabled {
		t.Fatalf("disable: %d %+v", resp.StatusCode, upd)
	}
	leave := agentSock.WaitFor(0, protocol.EventLeave, nil, 10*time.Second)
	var l protocol.Leave
	if err := json.Unmarshal(leave.Arg, &l); err != nil || l.Reason != protocol.LeaveTenantDisabled {
		t.Fatalf("leave %s", leave.Arg)
	}
	refused := visitorSock.WaitFor(0, protocol.EventRefused, nil, 10*time.Second)
	var r protocol.Refusal
	if err := json.Unmarshal(refused.Arg, &r); err != nil || r.Code != protocol.CodeForbidden || r.Message != "tenant disabled" {
		t.Fatalf("refused %s", refused.Arg)
	}
	for name, sock := range map[string]*nodetest.Recorder{"agent": agentSock, "entim": imSock, "visitor": visitorSock} {
		select {
		case <-sock.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("the %s socket of the disabled tenant is still open", name)
		}
	}
	if demoAgent.Err() != nil || demoVisitor.Err() != nil {
		t.Fatalf("another tenant's sockets closed: %v %v", demoAgent.Err(), demoVisitor.Err())
	}

	expect(t, n, http.MethodGet, "/api/v1/agent/sessions", alice, nil, http.StatusUnauthorized, "token")
	expect(t, n, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": "alice", "password": "acme-admin-pass-1"}, http.StatusForbidden, "tenant disabled")
	expect(t, n, http.MethodGet, "/im/acmesite/config", "", nil, http.StatusForbidden, "tenant disabled")
	// A refused socket is told why in `refused`, then disconnected.
	refusal := func(namespace string, q url.Values) protocol.Refusal {
		t.Helper()
		e := n.Record(namespace, q).WaitFor(0, protocol.EventRefused, nil, 10*time.Second)
		var r protocol.Refusal
		if err := json.Unmarshal(e.Arg, &r); err != nil {
			t.Fatalf("refused %s: %v", e.Arg, err)
		}
		return r
	}
	if r := refusal(protocol.NamespaceUser, visitor("v2")); r.Code != protocol.CodeForbidden || r.Message != "tenant disabled" {
		t.Fatalf("new visitor socket: %+v", r)
	}
	if r := refusal(protocol.NamespaceAgent, url.Values{"token": {alice}}); r.Code != protocol.CodeUnauthorized {
		t.Fatalf("new agent socket with the old token: %+v", r)
	}

	if resp := n.Do(http.MethodPut, path+"/acme", root, map[string]any{"disabled": false}, &upd); resp.StatusCode != http.StatusOK || upd.Disabled {
		t.Fatalf("enable: %d %+v", resp.StatusCode, upd)
	}
	n.Login("alice", "acme-admin-pass-1")
	// A visitor is served again: a refused socket would never acknowledge.
	var ack protocol.OKAck
	n.Record(protocol.NamespaceUser, visitor("v3")).Ack(protocol.EventTrace, protocol.Trace{URL: "https://acme.example/"}, &ack)
	if !ack.OK {
		t.Fatalf("visitor after enabling: %+v", ack)
	}
	var cfg map[string]any
	if resp := n.Do(http.MethodGet, "/im/acmesite/config", "", nil, &cfg); resp.StatusCode != http.StatusOK {
		t.Fatalf("widget config after enabling: %d %v", resp.StatusCode, cfg)
	}
}
