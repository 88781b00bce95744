package access

import (
	"slices"
	"testing"

	"github.com/kefu-im/kefu/pkg/store"
)

func TestRightsParseAndNames(t *testing.T) {
	r, err := ParseRights([]string{"transfer", " read", ""})
	if err != nil || r != Read|Transfer || r.String() != "read,transfer" {
		t.Fatalf("%v %v %q", r, err, r)
	}
	if _, err := ParseRights([]string{"delete"}); err == nil {
		t.Fatal("an unknown right parsed")
	}
	if Rights(0).Has(0) || !All.Has(Write) || (Read).Has(Read|Write) {
		t.Fatal("Has")
	}
}

// tree: A ─ A1 ─ A11, B; a cycle C ↔ D written by a bad edit.
func directory() *Directory {
	groups := []store.SkillGroup{
		{ID: "A"}, {ID: "A1", ParentID: "A"}, {ID: "A11", ParentID: "A1"}, {ID: "B"},
		{ID: "C", ParentID: "D"}, {ID: "D", ParentID: "C"},
	}
	roles := []store.Role{{Name: "auditor", Rights: "read"}, {Name: "supervisor", Rights: "read,write"}, {Name: "admin", Rights: ""}, {Name: "odd", Rights: "read,fly"}}
	members := map[string][]string{"supA1": {"A1"}, "agentA11": {"A11"}, "agentB": {"B"}, "supA": {"A"}, "cyc": {"C"}}
	return NewDirectory("o", roles, groups, []string{"supA1", "agentA11", "agentB", "supA", "cyc", "admin", "noone"}, members)
}

func TestGrantCoversSubtreesAndRoleRights(t *testing.T) {
	d := directory()
	supA1 := d.Grant(store.Agent{ID: "supA1", Orgi: "o", Roles: "supervisor"})
	// A tenant may redefine the supervisor: read and write, no transfer.
	if supA1.Rights != Read|Write || supA1.Tenant {
		t.Fatalf("rights %v tenant %v", supA1.Rights, supA1.Tenant)
	}
	for _, tc := range []struct {
		c    Chat
		want bool
	}{
		{d.Chat("o", "A1", ""), true},          // its group
		{d.Chat("o", "A11", ""), true},         // below it
		{d.Chat("o", "A", ""), false},          // above it
		{d.Chat("o", "B", ""), false},          // beside it
		{d.Chat("o", "", "agentA11"), true},    // no group: its agent's
		{d.Chat("o", "B", "agentA11"), true},   // another group, but its agent's is covered
		{d.Chat("o", "", "agentB"), false},     // an agent of B
		{d.Chat("o", "", ""), true},            // waits for anyone
		{d.Chat("other", "A1", ""), false},     // another tenant
		{d.Chat("o", "gone", "agentB"), false}, // a deleted group
		{d.Chat("o", "", "unknown"), false},    // an agent of no group
		{d.Chat("o", "A11", "agentB"), true},   // its group, whoever serves
	} {
		if got := supA1.Covers(tc.c); got != tc.want {
			t.Errorf("covers %+v: %v, want %v", tc.c, got, tc.want)
		}
	}
	if !supA1.Can(Write, d.Chat("o", "A1", "")) || supA1.Can(Transfer, d.Chat("o", "A1", "")) {
		t.Error("Can ignores rights")
	}
	// Admins: every right whatever a row says, the whole tenant.
	admin := d.Grant(store.Agent{ID: "admin", Orgi: "o", Roles: "admin"})
	if admin.Rights != All || !admin.Tenant || !admin.Covers(d.Chat("o", "B", "agentB")) {
		t.Fatalf("admin: %+v", admin)
	}
	// An agent has no rights and covers nothing, its own groups included.
	agent := d.Grant(store.Agent{ID: "agentB", Orgi: "o", Roles: "agent"})
	if agent.Rights != 0 || agent.Covers(d.Chat("o", "B", "")) || agent.Covers(d.Chat("o", "", "")) {
		t.Fatalf("agent: %+v", agent)
	}
	// Rights add up over roles; a role written with an unknown right grants nothing.
	both := d.Grant(store.Agent{ID: "supA", Orgi: "o", Roles: "agent,auditor,odd"})
	if both.Rights != Read {
		t.Fatalf("auditor+odd: %v", both.Rights)
	}
	// A disabled member, or one of another tenant, holds nothing.
	if g := d.Grant(store.Agent{ID: "supA", Orgi: "o", Roles: "admin", Disabled: true}); g.Rights != 0 || g.Covers(d.Chat("o", "A", "")) {
		t.Fatal("disabled")
	}
	if g := d.Grant(store.Agent{ID: "supA", Orgi: "x", Roles: "admin"}); g.Rights != 0 {
		t.Fatal("other tenant")
	}
	// A cycle in the tree ends.
	cyc := d.Grant(store.Agent{ID: "cyc", Orgi: "o", Roles: "auditor"})
	groups := []string{}
	for g := range cyc.Groups {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	if !slices.Equal(groups, []string{"C", "D"}) {
		t.Fatalf("cycle: %v", groups)
	}
	if !d.Knows("noone") || d.Knows("ghost") {
		t.Fatal("Knows")
	}
}

func TestValidRoleName(t *testing.T) {
	for name, want := range map[string]bool{"auditor": true, "team-lead_2": true, "": false, "Admin": false, "1x": false, "superadmin": false, "a b": false} {
		if ValidRoleName(name) != want {
			t.Errorf("%q: %v", name, !want)
		}
	}
}
