package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/canned"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// The dictionaries through a whole node: tags, visitor tags, the blacklist,
// canned categories and CSV.

// dictBackends runs fn on a node over SQLite and one over MariaDB.
func dictBackends(t *testing.T, fn func(t *testing.T, n *nodetest.Node)) {
	for _, mysql := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "mysql"}[mysql]
		t.Run(name, func(t *testing.T) { fn(t, nodetest.Start(t, nodetest.Options{MySQL: mysql, NoRouting: true})) })
	}
}

// dictCall sends a JSON request and fails unless it answers want.
func dictCall(t *testing.T, n *nodetest.Node, want int, method, path, token string, body, out any) {
	t.Helper()
	var raw json.RawMessage
	if r := n.Do(method, path, token, body, &raw); r.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, raw, err)
		}
	}
}

// dictRaw sends a raw body (nil: none) and returns the status and answer.
func dictRaw(t *testing.T, n *nodetest.Node, method, path, token, contentType string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data, resp.Header
}

func TestTagsAdministration(t *testing.T) {
	dictBackends(t, func(t *testing.T, n *nodetest.Node) {
		admin := n.Admin()
		_, agent := n.Staff(demo.Tenant, "tagger", "agent", 0)
		dictCall(t, n, http.StatusForbidden, "POST", "/api/v1/admin/tags", agent, map[string]any{"name": "VIP"}, nil)
		dictCall(t, n, http.StatusForbidden, "POST", "/api/v1/tags", agent, map[string]any{"name": "VIP"}, nil)
		for _, bad := range []map[string]any{
			{"name": ""}, {"name": "  "}, {"name": strings.Repeat("名", 65)}, {"name": "x", "color": "#f00"},
			{"name": "x", "color": "red"}, {"name": "x", "kind": "bogus"},
		} {
			dictCall(t, n, http.StatusBadRequest, "POST", "/api/v1/admin/tags", admin, bad, nil)
		}
		var vip, session, order protocol.Tag
		dictCall(t, n, http.StatusCreated, "POST", "/api/v1/admin/tags", admin, map[string]any{"name": " VIP ", "color": "#B26A00", "kind": "visitor"}, &vip)
		if vip.Name != "VIP" || vip.Color != "#b26a00" || vip.Kind != protocol.TagKindVisitor || vip.ID == "" {
			t.Fatalf("created %+v", vip)
		}
		dictCall(t, n, http.StatusCreated, "POST", "/api/v1/tags", admin, map[string]any{"name": "VIP"}, &session) // the old route; kind session
		dictCall(t, n, http.StatusCreated, "POST", "/api/v1/admin/tags", admin, map[string]any{"name": "Refund", "kind": "workorder"}, &order)
		if session.Kind != protocol.TagKindSession {
			t.Fatalf("default kind: %+v", session)
		}
		dictCall(t, n, http.StatusConflict, "POST", "/api/v1/admin/tags", admin, map[string]any{"name": "vip", "kind": "visitor"}, nil)

		var list []protocol.Tag
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/tags?kind=visitor", agent, nil, &list)
		if len(list) != 1 || list[0].ID != vip.ID {
			t.Fatalf("visitor tags: %+v", list)
		}
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/tags", agent, nil, &list)
		if len(list) != 3 {
			t.Fatalf("all tags: %+v", list)
		}
		dictCall(t, n, http.StatusBadRequest, "GET", "/api/v1/tags?kind=nope", agent, nil, nil)

		dictCall(t, n, http.StatusOK, "PUT", "/api/v1/admin/tags/"+order.ID, admin, map[string]any{"name": "Refunds", "color": "#2f6fde"}, &order)
		if order.Name != "Refunds" || order.Kind != protocol.TagKindWorkOrder || order.Color != "#2f6fde" {
			t.Fatalf("edited %+v", order)
		}
		dictCall(t, n, http.StatusConflict, "PUT", "/api/v1/admin/tags/"+order.ID, admin, map[string]any{"name": "VIP", "kind": "visitor"}, nil)
		dictCall(t, n, http.StatusNotFound, "PUT", "/api/v1/admin/tags/nope", admin, map[string]any{"name": "x"}, nil)
		dictCall(t, n, http.StatusForbidden, "DELETE", "/api/v1/admin/tags/"+order.ID, agent, nil, nil)

		// Another tenant's admin sees none of it.
		if err := n.Store.CreateTenant(context.Background(), &store.Tenant{ID: "t2", Name: "Other"}); err != nil {
			t.Fatal(err)
		}
		_, other := n.Staff("t2", "other-admin", "admin", 0)
		dictCall(t, n, http.StatusNotFound, "PUT", "/api/v1/admin/tags/"+vip.ID, other, map[string]any{"name": "mine"}, nil)
		dictCall(t, n, http.StatusNotFound, "DELETE", "/api/v1/admin/tags/"+vip.ID, other, nil, nil)

		ctx := context.Background()
		if err := n.Store.SetVisitorTags(ctx, demo.Tenant, demo.AppID, "u1", []string{vip.ID}); err != nil {
			t.Fatal(err)
		}
		dictCall(t, n, http.StatusNoContent, "DELETE", "/api/v1/admin/tags/"+vip.ID, admin, nil, nil)
		if ids, _ := n.Store.VisitorTags(ctx, demo.AppID, "u1"); len(ids) != 0 {
			t.Errorf("a deleted tag still labels the visitor: %v", ids)
		}
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/tags", admin, nil, &list)
		if len(list) != 2 {
			t.Errorf("after the delete: %+v", list)
		}
	})
}

func TestVisitorTagsFollowThePanelsAccess(t *testing.T) {
	tm := newTeam(t)
	n := tm.n
	var vipTag, chatTag protocol.Tag
	dictCall(t, n, http.StatusCreated, "POST", "/api/v1/admin/tags", tm.admin, map[string]any{"name": "VIP", "kind": "visitor"}, &vipTag)
	dictCall(t, n, http.StatusCreated, "POST", "/api/v1/admin/tags", tm.admin, map[string]any{"name": "Shipping"}, &chatTag)
	sid, _ := tm.chat(tm.a, tm.agentA)
	s := tm.session(sid)
	path := "/api/v1/visitors/" + s.AppID + "/" + url.PathEscape(s.UserID) + "/tags"

	dictCall(t, n, http.StatusBadRequest, "PUT", path, tm.agentA.token, protocol.TagSet{Tags: []string{chatTag.ID}}, nil)
	dictCall(t, n, http.StatusNotFound, "PUT", path, tm.agentA.token, protocol.TagSet{Tags: []string{"nope"}}, nil)
	var set protocol.TagSet
	dictCall(t, n, http.StatusOK, "PUT", path, tm.agentA.token, protocol.TagSet{Tags: []string{vipTag.ID, vipTag.ID}}, &set)
	if !slices.Equal(set.Tags, []string{vipTag.ID}) {
		t.Fatalf("set: %+v", set)
	}
	dictCall(t, n, http.StatusBadRequest, "PUT", "/api/v1/sessions/"+sid+"/tags", tm.agentA.token, protocol.TagSet{Tags: []string{vipTag.ID}}, nil)
	dictCall(t, n, http.StatusOK, "PUT", "/api/v1/sessions/"+sid+"/tags", tm.agentA.token, protocol.TagSet{Tags: []string{chatTag.ID}}, nil)

	var panel struct {
		Tags        []string `json:"tags"`
		VisitorTags []string `json:"visitortags"`
	}
	dictCall(t, n, http.StatusOK, "GET", "/api/v1/sessions/"+sid+"/visitor", tm.agentA.token, nil, &panel)
	if !slices.Equal(panel.Tags, []string{chatTag.ID}) || !slices.Equal(panel.VisitorTags, []string{vipTag.ID}) {
		t.Fatalf("panel: %+v", panel)
	}

	for _, tc := range []struct {
		who       string
		token     string
		read, set int
	}{
		{"the serving agent", tm.agentA.token, http.StatusOK, http.StatusOK},
		{"the supervisor of its group", tm.supA.token, http.StatusOK, http.StatusOK},
		{"a read-only auditor of its group", tm.audA.token, http.StatusOK, http.StatusForbidden},
		{"the admin", tm.admin, http.StatusOK, http.StatusOK},
		{"an agent of another group", tm.agentB.token, http.StatusForbidden, http.StatusForbidden},
		{"the supervisor of another group", tm.supB.token, http.StatusForbidden, http.StatusForbidden},
		{"another tenant's admin", tm.other.token, http.StatusNotFound, http.StatusNotFound},
	} {
		t.Run(tc.who, func(t *testing.T) {
			var got protocol.TagSet
			dictCall(t, n, tc.read, "GET", path, tc.token, nil, &got)
			if tc.read == http.StatusOK && !slices.Equal(got.Tags, []string{vipTag.ID}) {
				t.Errorf("read %+v", got)
			}
			dictCall(t, n, tc.set, "PUT", path, tc.token, protocol.TagSet{Tags: []string{vipTag.ID}}, nil)
		})
	}
	dictCall(t, n, http.StatusNotFound, "GET", "/api/v1/visitors/"+demo.AppID+"/nobody/tags", tm.admin, nil, nil)
}

func TestBlacklistSearchExtendLift(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{NoRouting: true})
	admin := n.Admin()
	_, agent := n.Staff(demo.Tenant, "guard", "agent", 0)
	q := n.Visitor("troll")
	q.Set("nickname", "Troll 50%")
	v := n.Record(protocol.NamespaceUser, q) // connected: the visitor is recorded
	for _, u := range []string{"spammer1", "spammer2"} {
		dictCall(t, n, http.StatusCreated, "POST", "/api/v1/blacklist", agent, map[string]any{"appid": demo.AppID, "userid": u, "hours": 1, "reason": "spam links"}, nil)
	}
	mark := v.Len()
	var entry protocol.BlacklistEntry
	dictCall(t, n, http.StatusCreated, "POST", "/api/v1/blacklist", agent, map[string]any{"appid": demo.AppID, "userid": "troll", "hours": 2, "reason": "rude"}, &entry)
	v.WaitFor(mark, protocol.EventRefused, nil, wait)
	if !entry.Active || entry.Nickname != "Troll 50%" || entry.ByName != "guard" {
		t.Fatalf("blocked: %+v", entry)
	}

	var page protocol.BlacklistPage
	dictCall(t, n, http.StatusOK, "GET", "/api/v1/blacklist?q="+url.QueryEscape("50%"), admin, nil, &page)
	if len(page.Items) != 1 || page.Items[0].UserID != "troll" || page.Next != "" {
		t.Fatalf("by nickname: %+v", page)
	}
	dictCall(t, n, http.StatusOK, "GET", "/api/v1/blacklist?q=spam", admin, nil, &page)
	if len(page.Items) != 2 {
		t.Fatalf("by reason: %+v", page)
	}
	var seen []string
	for before := ""; ; {
		page = protocol.BlacklistPage{} // decoding leaves a field the answer omits
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/blacklist?limit=2&before="+before, admin, nil, &page)
		for _, e := range page.Items {
			seen = append(seen, e.UserID)
		}
		if before = page.Next; before == "" {
			break
		}
	}
	if len(seen) != 3 || seen[0] != "troll" {
		t.Fatalf("paged: %v", seen)
	}
	for _, bad := range []string{"?limit=201", "?active=maybe", "?before=!!", "?q=" + strings.Repeat("x", 101)} {
		dictCall(t, n, http.StatusBadRequest, "GET", "/api/v1/blacklist"+bad, admin, nil, nil)
	}

	path := "/api/v1/blacklist/" + demo.AppID + "/troll"
	for _, bad := range []map[string]any{
		{}, {"extend_seconds": 60, "until": time.Now().Add(time.Hour).Format(time.RFC3339)}, {"extend_seconds": -1},
		{"extend_seconds": 367 * 86400}, {"until": time.Now().Add(-time.Hour).Format(time.RFC3339)},
		{"until": time.Now().AddDate(6, 0, 0).Format(time.RFC3339)}, {"reason": strings.Repeat("r", 256)},
	} {
		dictCall(t, n, http.StatusBadRequest, "PUT", path, agent, bad, nil)
	}
	dictCall(t, n, http.StatusNotFound, "PUT", "/api/v1/blacklist/"+demo.AppID+"/nobody", agent, map[string]any{"extend_seconds": 60}, nil)
	before := time.Time(entry.Until)
	dictCall(t, n, http.StatusOK, "PUT", path, agent, map[string]any{"extend_seconds": 86400, "reason": "very rude"}, &entry)
	if got := time.Time(entry.Until).Sub(before); got != 24*time.Hour || entry.Reason != "very rude" || entry.ByName != "guard" {
		t.Fatalf("extended by %v: %+v", got, entry)
	}

	// Run out (as time would), it is listed only with active=false; an
	// extension blocks again: the open socket is refused.
	ctx := context.Background()
	b, err := n.Store.GetBlock(ctx, demo.Tenant, demo.AppID, "troll")
	if err != nil {
		t.Fatal(err)
	}
	b.Until = time.Now().Add(-time.Minute)
	if err := n.Store.UpdateBlock(ctx, b); err != nil {
		t.Fatal(err)
	}
	dictCall(t, n, http.StatusOK, "GET", "/api/v1/blacklist?q=troll", admin, nil, &page)
	if len(page.Items) != 0 {
		t.Fatalf("run out but listed: %+v", page)
	}
	dictCall(t, n, http.StatusOK, "GET", "/api/v1/blacklist?q=troll&active=false", admin, nil, &page)
	if len(page.Items) != 1 || page.Items[0].Active {
		t.Fatalf("with active=false: %+v", page)
	}
	again := n.Record(protocol.NamespaceUser, q)
	mark = again.Len()
	dictCall(t, n, http.StatusOK, "PUT", path, admin, map[string]any{"extend_seconds": 3600}, &entry)
	again.WaitFor(mark, protocol.EventRefused, nil, wait)
	if !entry.Active || time.Until(time.Time(entry.Until)) < 59*time.Minute {
		t.Fatalf("blocked again: %+v", entry)
	}
	sign := n.Signer.Sign(demo.AppID, "troll")
	if r := n.Do("POST", "/im/"+demo.AppID+"/visitor", "", map[string]string{"userid": "troll", "sign": sign}, nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("identity while blocked: %d", r.StatusCode)
	}
	dictCall(t, n, http.StatusNoContent, "DELETE", path, agent, nil, nil)
	if r := n.Do("POST", "/im/"+demo.AppID+"/visitor", "", map[string]string{"userid": "troll", "sign": sign}, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("identity once lifted: %d", r.StatusCode)
	}
}

func TestCannedCategoriesAndReplies(t *testing.T) {
	dictBackends(t, func(t *testing.T, n *nodetest.Node) {
		admin := n.Admin()
		_, agent := n.Staff(demo.Tenant, "writer", "agent", 0)
		cat := func(token string, want int, body map[string]any) protocol.CannedCategory {
			t.Helper()
			var c protocol.CannedCategory
			dictCall(t, n, want, "POST", "/api/v1/canned/categories", token, body, &c)
			return c
		}
		cat(agent, http.StatusForbidden, map[string]any{"name": "Billing", "scope": "tenant"})
		mine := cat(agent, http.StatusCreated, map[string]any{"name": "Mine", "scope": "private"})
		billing := cat(admin, http.StatusCreated, map[string]any{"name": "Billing", "scope": "tenant"})
		refunds := cat(admin, http.StatusCreated, map[string]any{"name": "Refunds", "parent_id": billing.ID, "scope": "tenant"})
		if refunds.Path != "Billing/Refunds" || refunds.Scope != "tenant" {
			t.Fatalf("child: %+v", refunds)
		}
		cat(admin, http.StatusConflict, map[string]any{"name": "refunds", "parent_id": billing.ID, "scope": "tenant"})
		for _, bad := range []map[string]any{
			{"name": "A/B", "scope": "tenant"}, {"name": "", "scope": "tenant"}, {"scope": "tenant"}, {"name": "x", "scope": "all"},
			{"name": "x", "parent_id": mine.ID, "scope": "tenant"}, {"name": "x", "parent_id": "nope", "scope": "tenant"},
		} {
			cat(admin, http.StatusBadRequest, bad)
		}

		var r protocol.CannedReply
		dictCall(t, n, http.StatusCreated, "POST", "/api/v1/canned", admin, map[string]any{"category_id": refunds.ID, "title": "Refund time", "content": "5 days, 100% sure", "scope": "tenant"}, &r)
		if r.Category != "Billing/Refunds" || r.CategoryID != refunds.ID {
			t.Fatalf("reply: %+v", r)
		}
		dictCall(t, n, http.StatusCreated, "POST", "/api/v1/canned", admin, map[string]any{"category": "Billing / Invoices", "title": "Invoice", "content": "Sent by e-mail", "scope": "tenant"}, &r)
		if r.Category != "Billing/Invoices" || r.CategoryID == "" {
			t.Fatalf("reply by path: %+v", r)
		}
		dictCall(t, n, http.StatusCreated, "POST", "/api/v1/canned", agent, map[string]any{"category_id": mine.ID, "title": "Hi", "content": "Hello", "scope": "private"}, nil)
		for _, bad := range []map[string]any{
			{"category_id": mine.ID, "title": "x", "content": "y", "scope": "tenant"},
			{"category_id": refunds.ID, "category": "Billing", "title": "x", "content": "y", "scope": "tenant"},
			{"category": "a//b", "title": "x", "content": "y", "scope": "tenant"},
		} {
			dictCall(t, n, http.StatusBadRequest, "POST", "/api/v1/canned", admin, bad, nil)
		}
		var found []protocol.CannedReply
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/canned?q="+url.QueryEscape("%"), agent, nil, &found)
		if len(found) != 1 || found[0].Title != "Refund time" {
			t.Fatalf("%% found %+v", found)
		}

		var cats []protocol.CannedCategory
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/canned/categories", agent, nil, &cats)
		var paths []string
		for _, c := range cats {
			paths = append(paths, c.Scope+":"+c.Path)
		}
		if want := []string{"tenant:Billing", "tenant:Billing/Invoices", "tenant:Billing/Refunds", "private:Mine"}; !slices.Equal(paths, want) {
			t.Fatalf("categories %v, want %v", paths, want)
		}
		if cats[2].Replies != 1 || cats[0].Replies != 0 {
			t.Errorf("counts: %+v", cats)
		}
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/canned/categories?scope=private", admin, nil, &cats)
		if len(cats) != 0 {
			t.Errorf("the admin sees another's private categories: %+v", cats)
		}

		put := func(id string, want int, body map[string]any) {
			t.Helper()
			dictCall(t, n, want, "PUT", "/api/v1/canned/categories/"+id, admin, body, nil)
		}
		put(billing.ID, http.StatusBadRequest, map[string]any{"parent_id": refunds.ID})
		put(billing.ID, http.StatusBadRequest, map[string]any{"parent_id": billing.ID})
		put(refunds.ID, http.StatusConflict, map[string]any{"name": "Invoices"})
		put(mine.ID, http.StatusNotFound, map[string]any{"name": "Stolen"})
		dictCall(t, n, http.StatusForbidden, "PUT", "/api/v1/canned/categories/"+billing.ID, agent, map[string]any{"name": "x"}, nil)
		put(refunds.ID, http.StatusOK, map[string]any{"name": "Returns", "parent_id": ""})
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/canned?q=Refund", admin, nil, &found)
		if len(found) != 1 || found[0].Category != "Returns" {
			t.Fatalf("after the move: %+v", found)
		}

		dictCall(t, n, http.StatusConflict, "DELETE", "/api/v1/canned/categories/"+billing.ID, admin, nil, nil)
		dictCall(t, n, http.StatusBadRequest, "DELETE", "/api/v1/canned/categories/"+billing.ID+"?move_to=nope", admin, nil, nil)
		dictCall(t, n, http.StatusNoContent, "DELETE", "/api/v1/canned/categories/"+billing.ID+"?move_to="+refunds.ID, admin, nil, nil)
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/canned/categories?scope=tenant", admin, nil, &cats)
		paths = paths[:0]
		for _, c := range cats {
			paths = append(paths, c.Path)
		}
		if want := []string{"Returns", "Returns/Invoices"}; !slices.Equal(paths, want) {
			t.Fatalf("after deleting Billing into Returns: %v", paths)
		}
	})
}

func TestCannedCSVRoundTripAndBadRows(t *testing.T) {
	dictBackends(t, func(t *testing.T, n *nodetest.Node) {
		admin := n.Admin()
		_, agent := n.Staff(demo.Tenant, "writer", "agent", 0)
		if err := n.Store.CreateTenant(context.Background(), &store.Tenant{ID: "t2", Name: "Other"}); err != nil {
			t.Fatal(err)
		}
		_, other := n.Staff("t2", "other-admin", "admin", 0)
		file := "category,title,content\r\n" +
			"售后/退款,退款时效,\"退款 3-5 个工作日到账，\r\n如有疑问请联系我们。\"\r\n" +
			"Billing,\"Quote \"\"this\"\"\",\"=SUM(A1) is text, not a formula\"\r\n" +
			",Greeting,Hello!\r\n" +
			"Empty/Leaf,,\r\n"
		var res protocol.CannedImportResult
		importCSV := func(token, scope, body string, want int) {
			t.Helper()
			code, data, _ := dictRaw(t, n, "POST", "/api/v1/canned/import?scope="+scope, token, "text/csv; charset=utf-8", []byte(body))
			if code != want {
				t.Fatalf("import: %d %s, want %d", code, data, want)
			}
			res = protocol.CannedImportResult{}
			if err := json.Unmarshal(data, &res); err != nil {
				t.Fatal(err)
			}
		}
		importCSV(admin, "tenant", file, http.StatusOK)
		if res.Created != 3 || res.Categories != 5 || res.Updated != 0 || len(res.Errors) != 0 {
			t.Fatalf("first import: %+v", res)
		}
		export := func(token string) []byte {
			t.Helper()
			code, data, h := dictRaw(t, n, "GET", "/api/v1/canned/export.csv?scope=tenant", token, "", nil)
			if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
				t.Fatalf("export: %d %v %s", code, h, data)
			}
			return data
		}
		first := export(agent) // any staff member reads the tenant's
		if !bytes.HasPrefix(first, []byte("\uFEFFcategory,title,content\n")) || !bytes.Contains(first, []byte(`'=SUM`)) {
			t.Fatalf("export:\n%s", first)
		}
		code, _, _ := dictRaw(t, n, "POST", "/api/v1/canned/import?scope=tenant", other, "text/csv", first)
		if code != http.StatusOK {
			t.Fatalf("import into t2: %d", code)
		}
		if second := export(other); !bytes.Equal(first, second) {
			t.Fatalf("the other tenant's export differs:\n%s\n---\n%s", first, second)
		}
		var replies []protocol.CannedReply
		dictCall(t, n, http.StatusOK, "GET", "/api/v1/canned?q=SUM", other, nil, &replies)
		if len(replies) != 1 || replies[0].Content != "=SUM(A1) is text, not a formula" || replies[0].Title != `Quote "this"` || replies[0].Category != "Billing" {
			t.Fatalf("imported into t2: %+v", replies)
		}

		// The same file again changes nothing; one changed row updates.
		importCSV(admin, "tenant", string(first), http.StatusOK)
		if res.Created != 0 || res.Updated != 0 || res.Skipped != 4 || res.Categories != 0 {
			t.Fatalf("again: %+v", res)
		}
		importCSV(admin, "tenant", "category,title,content\n,Greeting,Hello again!\n", http.StatusOK)
		if res.Updated != 1 || res.Created != 0 {
			t.Fatalf("update: %+v", res)
		}

		bad := "category,title,content\n" + // 1
			"A,ok,fine\n" + // 2
			"A,,content only\n" + // 3
			"A,two\n" + // 4
			"A," + strings.Repeat("t", canned.MaxTitle+1) + ",x\n" + // 5
			"A,\"multi\nline title\",\"x\"\n" + // 6-7: fine
			"A,ok,dup\n" + // 8
			"A/,x,y\n" // 9
		importCSV(agent, "private", bad, http.StatusOK)
		var lines []int
		for _, e := range res.Errors {
			lines = append(lines, e.Line)
		}
		if !slices.Equal(lines, []int{3, 4, 5, 8, 9}) || res.Created != 2 {
			t.Fatalf("bad rows: %+v", res)
		}
		if !strings.Contains(res.Errors[3].Message, "line 2") {
			t.Errorf("the repeated row does not name the first: %+v", res.Errors[3])
		}

		for _, tc := range []struct {
			name, token, scope, ctype, body string
			want                            int
		}{
			{"an agent into the tenant's", agent, "tenant", "text/csv", file, http.StatusForbidden},
			{"no scope", admin, "", "text/csv", file, http.StatusBadRequest},
			{"JSON", admin, "tenant", "application/json", file, http.StatusBadRequest},
			{"no header", admin, "tenant", "text/csv", "A,b,c\n", http.StatusBadRequest},
			{"GBK bytes", admin, "tenant", "text/csv", "category,title,content\nA,\xc4\xe3\xba\xc3,x\n", http.StatusBadRequest},
			{"an open quote", admin, "tenant", "text/csv", "category,title,content\nA,\"open,x\n", http.StatusBadRequest},
			{"too many rows", admin, "tenant", "text/csv", "category,title,content\n" + strings.Repeat("A,t,c\n", canned.MaxImportRows+1), http.StatusBadRequest},
			{"too large", admin, "tenant", "text/csv", "category,title,content\n" + strings.Repeat("A,t,"+strings.Repeat("c", 1000)+"\n", 1000), http.StatusRequestEntityTooLarge},
		} {
			code, data, _ := dictRaw(t, n, "POST", "/api/v1/canned/import?scope="+tc.scope, tc.token, tc.ctype, []byte(tc.body))
			if code != tc.want {
				t.Errorf("%s: %d %s, want %d", tc.name, code, data, tc.want)
			}
		}
		if code, _, _ := dictRaw(t, n, "GET", "/api/v1/canned/export.csv", admin, "", nil); code != http.StatusBadRequest {
			t.Errorf("export without a scope: %d", code)
		}
	})
}
