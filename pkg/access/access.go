// Package access says who may supervise what (design invariant I8): the
// rights a staff member's roles grant — cskefu's read, write and transfer
// audit permissions — and the skill groups, with the groups below them in
// the tree, that those rights cover. Admins cover their whole tenant.
//
// A chat is in a scope when its skill group is, or when the agent serving
// it belongs to a group that is; a queued chat that asked for no group
// waits for any agent, so every supervisor of the tenant covers it.
package access

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Rights is a set of supervision rights.
type Rights uint8

// The rights.
const (
	// Read: the live monitor (chats, queue, agents) and the transcripts and
	// archive of the scope.
	Read Rights = 1 << iota
	// Write: join a chat (write to its visitor) and whisper to its agent.
	Write
	// Transfer: take a chat over, transfer or end it, act on the queue and
	// on agents' status.
	Transfer

	All = Read | Write | Transfer
)

type rightName struct {
	r    Rights
	name string
}

var rightNames = []rightName{{Read, "read"}, {Write, "write"}, {Transfer, "transfer"}}

// Has reports whether r holds every right of want.
func (r Rights) Has(want Rights) bool { return want != 0 && r&want == want }

// Names lists r's rights by name, in a fixed order.
func (r Rights) Names() []string {
	out := []string{}
	for _, n := range rightNames {
		if r&n.r != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// String is Names joined by commas (how a Role row stores them).
func (r Rights) String() string { return strings.Join(r.Names(), ",") }

// ParseRights reads right names; an unknown one is an error.
func ParseRights(names []string) (Rights, error) {
	var r Rights
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := slices.IndexFunc(rightNames, func(n rightName) bool { return n.name == name })
		if i < 0 {
			return 0, fmt.Errorf("unknown right %q (read, write or transfer)", name)
		}
		r |= rightNames[i].r
	}
	return r, nil
}

// BuiltinRoles are the roles every tenant has; others are a tenant's own.
var BuiltinRoles = []string{protocol.RoleAgent, protocol.RoleSupervisor, protocol.RoleAdmin}

var roleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidRoleName reports whether name may name a tenant's role: 1 to 32 of
// a-z 0-9 _ -, starting with a letter; never the installation's superadmin.
func ValidRoleName(name string) bool {
	return roleName.MatchString(name) && name != protocol.RoleSuperAdmin
}

// DefaultRights are the built-in roles' rights when a tenant has not
// redefined them. Admins always hold all of them (see Directory.Grant).
func DefaultRights(role string) Rights {
	switch role {
	case protocol.RoleSupervisor, protocol.RoleAdmin, protocol.RoleSuperAdmin:
		return All
	}
	return 0
}

// Grant is what one staff member may do in supervision, and where.
type Grant struct {
	Orgi    string
	AgentID string
	Rights  Rights
	// Tenant: the whole tenant is in scope (admins).
	Tenant bool
	// Groups are the skill groups in scope, subtrees included.
	Groups map[string]bool
}

// Chat is what decides whether one conversation is in a scope.
type Chat struct {
	Orgi        string
	Skill       string   // the chat's skill group; "" none
	AgentNo     string   // who serves it; "" while it waits
	AgentGroups []string // the groups AgentNo belongs to
}

// Covers reports whether c is in g's scope (whatever the rights).
func (g Grant) Covers(c Chat) bool {
	if g.Orgi == "" || c.Orgi != g.Orgi || g.Rights == 0 {
		return false
	}
	if g.Tenant || g.Groups[c.Skill] {
		return true
	}
	if c.Skill == "" && c.AgentNo == "" {
		return true // waiting for anyone
	}
	return g.CoversAgent(c.AgentGroups)
}

// CoversAgent reports whether an agent of groups is in g's scope.
func (g Grant) CoversAgent(groups []string) bool {
	if g.Rights == 0 {
		return false
	}
	if g.Tenant {
		return true
	}
	for _, id := range groups {
		if g.Groups[id] {
			return true
		}
	}
	return false
}

// Can reports whether g holds want on c.
func (g Grant) Can(want Rights, c Chat) bool { return g.Rights.Has(want) && g.Covers(c) }

// Directory is what grants and chat scopes are computed from, for one
// tenant: its roles' rights, its group tree and its agents' groups.
type Directory struct {
	Orgi        string
	roles       map[string]Rights
	children    map[string][]string
	agentGroups map[string][]string
	agents      map[string]bool // every agent of the tenant when read
}

// NewDirectory builds a tenant's directory from its stored facts.
func NewDirectory(orgi string, roles []store.Role, groups []store.SkillGroup, agents []string, agentGroups map[string][]string) *Directory {
	d := &Directory{Orgi: orgi, roles: make(map[string]Rights), children: make(map[string][]string), agentGroups: agentGroups, agents: make(map[string]bool, len(agents))}
	for _, id := range agents {
		d.agents[id] = true
	}
	if d.agentGroups == nil {
		d.agentGroups = map[string][]string{}
	}
	for _, r := range roles {
		rights, err := ParseRights(strings.Split(r.Rights, ","))
		if err != nil {
			continue // written by an older or newer binary: grants nothing here
		}
		d.roles[r.Name] = rights
	}
	for _, g := range groups {
		if g.ParentID != "" && g.ParentID != g.ID {
			d.children[g.ParentID] = append(d.children[g.ParentID], g.ID)
		}
	}
	return d
}

// RoleRights is what role grants in this tenant.
func (d *Directory) RoleRights(role string) Rights {
	if r, ok := d.roles[role]; ok && role != protocol.RoleAdmin && role != protocol.RoleSuperAdmin {
		return r
	}
	return DefaultRights(role)
}

// Grant computes a staff member's grant from its roles and groups.
func (d *Directory) Grant(a store.Agent) Grant {
	g := Grant{Orgi: a.Orgi, AgentID: a.ID, Groups: make(map[string]bool)}
	if a.Orgi != d.Orgi || a.Disabled {
		return Grant{}
	}
	for _, role := range strings.Split(a.Roles, ",") {
		g.Rights |= d.RoleRights(role)
		if role == protocol.RoleAdmin || role == protocol.RoleSuperAdmin {
			g.Tenant = true
		}
	}
	// Below every group one belongs to, breadth first; a cycle (a bad
	// edit) stops at groups already seen.
	queue := slices.Clone(d.agentGroups[a.ID])
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if g.Groups[id] {
			continue
		}
		g.Groups[id] = true
		queue = append(queue, d.children[id]...)
	}
	return g
}

// Knows reports whether the agent existed when the directory was read.
func (d *Directory) Knows(agentID string) bool { return d.agents[agentID] }

// AgentGroups are the groups an agent belongs to.
func (d *Directory) AgentGroups(agentID string) []string { return d.agentGroups[agentID] }

// Chat is the scope facts of a session.
func (d *Directory) Chat(orgi, skill, agentNo string) Chat {
	c := Chat{Orgi: orgi, Skill: skill, AgentNo: agentNo}
	if agentNo != "" {
		c.AgentGroups = d.agentGroups[agentNo]
	}
	return c
}
