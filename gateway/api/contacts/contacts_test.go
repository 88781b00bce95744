package contacts_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/gateway/api/contacts"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/store"
)

func eachBackend(t *testing.T, fn func(t *testing.T, n *nodetest.Node)) {
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, nodetest.Start(t, nodetest.Options{NoRouting: true})) })
	t.Run("mysql", func(t *testing.T) {
		t.Parallel()
		fn(t, nodetest.Start(t, nodetest.Options{MySQL: true, NoRouting: true}))
	})
}

type team struct {
	admin, agent, agent2, lead string // tokens
	agentID, agent2ID          string
}

func newTeam(t *testing.T, n *nodetest.Node) team {
	var tm team
	tm.admin = n.Admin()
	tm.agentID, tm.agent = n.Staff(demo.Tenant, "c-agent", "agent", 3)
	tm.agent2ID, tm.agent2 = n.Staff(demo.Tenant, "c-agent2", "agent", 3)
	_, tm.lead = n.Staff(demo.Tenant, "c-lead", "agent,supervisor", 3)
	return tm
}

func (tm team) create(t *testing.T, n *nodetest.Node, token string, in contacts.ContactInput) contacts.Contact {
	t.Helper()
	var out contacts.Contact
	if r := n.Do(http.MethodPost, "/api/v1/contacts", token, in, &out); r.StatusCode != http.StatusCreated {
		t.Fatalf("create %+v: %d", in, r.StatusCode)
	}
	return out
}

func TestContactsValidationAndEditing(t *testing.T) {
	eachBackend(t, func(t *testing.T, n *nodetest.Node) {
		tm := newTeam(t, n)
		const path = "/api/v1/contacts"
		for _, tc := range []struct {
			in   any
			want string
		}{
			{contacts.ContactInput{}, "name is required"},
			{contacts.ContactInput{Name: "  "}, "name is required"},
			{contacts.ContactInput{Name: strings.Repeat("名", 129)}, "name is longer than 128"},
			{contacts.ContactInput{Name: "A", Phones: []string{"call me"}}, `phone "call me" is not valid`},
			{contacts.ContactInput{Name: "A", Emails: []string{"not-an-email"}}, `email "not-an-email" is not valid`},
			{contacts.ContactInput{Name: "A", Emails: []string{"Bob <b@example.com>"}}, "is not valid"},
			{contacts.ContactInput{Name: "A", Phones: []string{"1", "2", "3", "4", "5", "6"}}, "at most 5 of phones"},
			{contacts.ContactInput{Name: "A", Attributes: map[string]string{"vip": "1"}}, `unknown attribute "vip"`},

			{map[string]any{"name": 5}, "invalid JSON body"},
		} {
			n.Refused(t, http.MethodPost, path, tm.agent, tc.in, http.StatusBadRequest, tc.want)
		}
		n.Refused(t, http.MethodPost, path, tm.lead, contacts.ContactInput{Name: "A", Owner: "nobody"}, http.StatusBadRequest, "owner nobody is not a user of this tenant")

		xss := `<img src=x onerror=alert(1)>`
		c := tm.create(t, n, tm.agent, contacts.ContactInput{
			Name: " 王小明 " + xss, Phones: []string{"+86 138-0000-0000", "", "+86 138-0000-0000"}, Emails: []string{"ming@example.com"},
			Company: "Acme", Tags: []string{"vip", "vip", "潜在"}, Notes: xss, Owner: tm.agentID,
		})
		if c.Name != "王小明 "+xss || len(c.Phones) != 1 || len(c.Tags) != 2 || c.Owner != tm.agentID || c.Notes != xss || c.ID == "" {
			t.Fatalf("created: %+v", c)
		}
		var got contacts.Contact
		if r := n.Do(http.MethodGet, path+"/"+c.ID, tm.agent2, nil, &got); r.StatusCode != http.StatusOK || got.Name != c.Name || got.Emails[0] != "ming@example.com" {
			t.Fatalf("get: %d %+v", r.StatusCode, got)
		}

		// An agent may not give a contact to someone else; a supervisor may.
		in := contacts.ContactInput{Name: "王小明", Owner: tm.agent2ID}
		n.Refused(t, http.MethodPut, path+"/"+c.ID, tm.agent, in, http.StatusForbidden, "only supervisors and admins")
		if r := n.Do(http.MethodPut, path+"/"+c.ID, tm.lead, in, &got); r.StatusCode != http.StatusOK || got.Owner != tm.agent2ID || len(got.Phones) != 0 {
			t.Fatalf("lead's update: %d %+v", r.StatusCode, got)
		}
		n.Refused(t, http.MethodPut, path+"/nope", tm.agent, in, http.StatusNotFound, "contact not found")
		n.Refused(t, http.MethodDelete, path+"/"+c.ID, tm.agent, nil, http.StatusForbidden, "needs role")
		if r := n.Do(http.MethodDelete, path+"/"+c.ID, tm.lead, nil, nil); r.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d", r.StatusCode)
		}
		n.Refused(t, http.MethodGet, path+"/"+c.ID, tm.agent, nil, http.StatusNotFound, "contact not found")
	})
}

func TestContactAttributes(t *testing.T) {
	eachBackend(t, func(t *testing.T, n *nodetest.Node) {
		tm := newTeam(t, n)
		const defs = "/api/v1/admin/contacts/attributes"
		for _, tc := range []struct {
			in   []contacts.Attribute
			want string
		}{
			{[]contacts.Attribute{{Key: "Level", Label: "L", Type: "text"}}, `attribute key "Level"`},
			{[]contacts.Attribute{{Key: "a", Label: "A", Type: "text"}, {Key: "a", Label: "B", Type: "text"}}, "used twice"},
			{[]contacts.Attribute{{Key: "a", Label: "", Type: "text"}}, "the label is required"},
			{[]contacts.Attribute{{Key: "a", Label: "A", Type: "colour"}}, "type must be"},
			{[]contacts.Attribute{{Key: "a", Label: "A", Type: "choice"}}, "a choice needs its choices"},
		} {
			n.Refused(t, http.MethodPut, defs, tm.admin, tc.in, http.StatusBadRequest, tc.want)
		}
		attrs := []contacts.Attribute{
			{Key: "member_no", Label: "会员号", Type: "text", Required: true, Unique: true},
			{Key: "spend", Label: "Spend", Type: "number"},
			{Key: "birthday", Label: "Birthday", Type: "date"},
			{Key: "level", Label: "Level", Type: "choice", Choices: []string{"gold", "silver", "gold"}},
		}
		n.Refused(t, http.MethodPut, defs, tm.lead, attrs, http.StatusForbidden, "needs role admin")
		var saved []contacts.Attribute
		if r := n.Do(http.MethodPut, defs, tm.admin, attrs, &saved); r.StatusCode != http.StatusOK || len(saved) != 4 || len(saved[3].Choices) != 2 {
			t.Fatalf("define: %d %+v", r.StatusCode, saved)
		}
		var read []contacts.Attribute
		if r := n.Do(http.MethodGet, "/api/v1/contacts/attributes", tm.agent, nil, &read); r.StatusCode != http.StatusOK || len(read) != 4 || read[0].Key != "member_no" {
			t.Fatalf("read: %d %+v", r.StatusCode, read)
		}

		const path = "/api/v1/contacts"
		with := func(v map[string]string) contacts.ContactInput {
			return contacts.ContactInput{Name: "V", Attributes: v}
		}
		for _, tc := range []struct {
			v    map[string]string
			want string
		}{
			{map[string]string{}, "会员号 is required"},
			{map[string]string{"member_no": "  "}, "会员号 is required"},
			{map[string]string{"member_no": "1", "spend": "lots"}, "Spend must be a number"},
			{map[string]string{"member_no": "1", "birthday": "2026-02-30"}, "Birthday must be a date"},
			{map[string]string{"member_no": "1", "level": "bronze"}, "Level must be one of gold, silver"},
		} {
			n.Refused(t, http.MethodPost, path, tm.agent, with(tc.v), http.StatusBadRequest, tc.want)
		}
		c := tm.create(t, n, tm.agent, with(map[string]string{"member_no": "M1", "spend": "12.50", "birthday": "1990-05-01", "level": "gold"}))
		if c.Attributes["spend"] != "12.5" || c.Attributes["level"] != "gold" {
			t.Fatalf("values: %+v", c.Attributes)
		}
		n.Refused(t, http.MethodPost, path, tm.agent, with(map[string]string{"member_no": "M1"}), http.StatusConflict, `already has 会员号 "M1"`)
		// Its own value is no conflict when it is edited.
		var got contacts.Contact
		if r := n.Do(http.MethodPut, path+"/"+c.ID, tm.agent, with(map[string]string{"member_no": "M1", "level": "silver"}), &got); r.StatusCode != http.StatusOK || got.Attributes["level"] != "silver" || got.Attributes["spend"] != "" {
			t.Fatalf("edit: %d %+v", r.StatusCode, got)
		}
		// Dropping a definition drops its values.
		if r := n.Do(http.MethodPut, defs, tm.admin, attrs[1:], &saved); r.StatusCode != http.StatusOK {
			t.Fatalf("redefine: %d", r.StatusCode)
		}
		var after contacts.Contact
		if n.Do(http.MethodGet, path+"/"+c.ID, tm.agent, nil, &after); len(after.Attributes) != 1 || after.Attributes["level"] != "silver" {
			t.Fatalf("after dropping member_no: %+v", after.Attributes)
		}
	})
}

func TestContactListsAndAllocation(t *testing.T) {
	eachBackend(t, func(t *testing.T, n *nodetest.Node) {
		tm := newTeam(t, n)
		var ids []string
		for i := range 12 {
			in := contacts.ContactInput{Name: fmt.Sprintf("Customer %02d", i), Company: "Co", Phones: []string{fmt.Sprintf("+1 555 01%02d", i)}}
			if i%3 == 0 {
				in.Tags = []string{"vip"}
			}
			if i%2 == 0 {
				in.Owner = tm.agentID
			}
			ids = append(ids, tm.create(t, n, tm.agent, in).ID)
		}
		tm.create(t, n, tm.agent, contacts.ContactInput{Name: "100%_off", Tags: []string{"vipish"}})

		// Another tenant's staff sees none of them.
		if err := n.Store.CreateTenant(context.Background(), &store.Tenant{ID: "other", Name: "Other", TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		otherID, other := n.Staff("other", "o-lead", "agent,supervisor", 3)
		list := func(token string, q url.Values) contacts.Page {
			t.Helper()
			var p contacts.Page
			if r := n.Do(http.MethodGet, "/api/v1/contacts?"+q.Encode(), token, nil, &p); r.StatusCode != http.StatusOK {
				t.Fatalf("list %v: %d", q, r.StatusCode)
			}
			return p
		}
		if p := list(other, nil); p.Total != 0 || len(p.Contacts) != 0 {
			t.Fatalf("other tenant sees %+v", p)
		}
		n.Refused(t, http.MethodGet, "/api/v1/contacts/"+ids[0], other, nil, http.StatusNotFound, "contact not found")
		n.Refused(t, http.MethodPut, "/api/v1/contacts/"+ids[0], other, contacts.ContactInput{Name: "x"}, http.StatusNotFound, "contact not found")
		n.Refused(t, http.MethodDelete, "/api/v1/contacts/"+ids[0], other, nil, http.StatusNotFound, "contact not found")
		var al contacts.Allocated
		if r := n.Do(http.MethodPost, "/api/v1/contacts/allocate", other, contacts.AllocateRequest{IDs: ids, Owner: otherID}, &al); r.StatusCode != http.StatusOK || al.Changed != 0 {
			t.Fatalf("other tenant allocates: %d %+v", r.StatusCode, al)
		}

		for _, tc := range []struct {
			q     url.Values
			total int64
		}{
			{nil, 13},
			{url.Values{"q": {"customer 0"}}, 10},
			{url.Values{"q": {"555 0107"}}, 1},
			{url.Values{"q": {"%_"}}, 1},
			{url.Values{"tag": {"vip"}}, 4},
			{url.Values{"owner": {"me"}}, 6},
			{url.Values{"owner": {"-"}}, 7},
			{url.Values{"owner": {"me"}, "tag": {"vip"}}, 2},
		} {
			if p := list(tm.agent, tc.q); p.Total != tc.total {
				t.Errorf("list %v: total %d, want %d", tc.q, p.Total, tc.total)
			}
		}
		p := list(tm.agent, url.Values{"limit": {"5"}, "offset": {"10"}})
		if p.Total != 13 || len(p.Contacts) != 3 {
			t.Fatalf("page 3 of 5: %d of %d", len(p.Contacts), p.Total)
		}
		n.Refused(t, http.MethodGet, "/api/v1/contacts?limit=-1", tm.agent, nil, http.StatusBadRequest, "limit must be")
		n.Refused(t, http.MethodGet, "/api/v1/contacts?limit=501", tm.agent, nil, http.StatusBadRequest, "limit is at most 500")

		// Allocation (分配客户): supervisors, in bulk, to a user of the tenant.
		req := contacts.AllocateRequest{IDs: ids[:4], Owner: tm.agent2ID}
		n.Refused(t, http.MethodPost, "/api/v1/contacts/allocate", tm.agent, req, http.StatusForbidden, "needs role")
		n.Refused(t, http.MethodPost, "/api/v1/contacts/allocate", tm.lead, contacts.AllocateRequest{IDs: ids, Owner: otherID}, http.StatusBadRequest, "not a user of this tenant")
		n.Refused(t, http.MethodPost, "/api/v1/contacts/allocate", tm.lead, contacts.AllocateRequest{Owner: tm.agent2ID}, http.StatusBadRequest, "1 to 1000")
		if r := n.Do(http.MethodPost, "/api/v1/contacts/allocate", tm.lead, req, &al); r.StatusCode != http.StatusOK || al.Changed != 4 {
			t.Fatalf("allocate: %d %+v", r.StatusCode, al)
		}
		if p := list(tm.agent2, url.Values{"owner": {"me"}}); p.Total != 4 {
			t.Fatalf("agent2 owns %d, want 4", p.Total)
		}
		if p := list(tm.agent, url.Values{"owner": {"me"}}); p.Total != 4 {
			t.Fatalf("agent owns %d after allocation, want 4", p.Total)
		}
	})
}
