package router

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// view is one tenant's routing picture for a decision or a drain pass:
// who can take visitors, how loaded, in which skill groups, under which
// settings. A drain updates it as it assigns.
type view struct {
	tenant  store.Tenant
	cands   map[string]*candidate // routable agents: role agent, enabled, ready, not busy, online
	skills  map[string][]string   // agent → skill groups
	groups  map[string]store.SkillGroup
	configs map[string]store.SessionConfig // skill ("" = tenant) → settings
	pulled  map[string]int                 // agent → visitors assigned in this pass
}

// view loads the tenant's routing picture.
func (s *Service) view(ctx context.Context, orgi string) (*view, error) {
	tenant, err := s.store.GetTenant(ctx, orgi)
	if err != nil {
		return nil, err
	}
	agents, err := s.store.ListAgents(ctx, orgi)
	if err != nil {
		return nil, err
	}
	states, err := s.store.ListAgentStates(ctx, orgi)
	if err != nil {
		return nil, err
	}
	load, err := s.store.CountInService(ctx, orgi)
	if err != nil {
		return nil, err
	}
	skills, err := s.store.TenantAgentSkills(ctx, orgi)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.ListSkills(ctx, orgi)
	if err != nil {
		return nil, err
	}
	configs, err := s.store.SessionConfigs(ctx, orgi)
	if err != nil {
		return nil, err
	}
	v := &view{
		tenant: tenant, cands: make(map[string]*candidate), skills: skills,
		groups: make(map[string]store.SkillGroup), configs: make(map[string]store.SessionConfig), pulled: make(map[string]int),
	}
	for _, g := range groups {
		if !g.Disabled {
			v.groups[g.ID] = g
		}
	}
	for _, c := range configs {
		v.configs[c.Skill] = c
	}
	byID := make(map[string]store.Agent, len(agents))
	for _, a := range agents {
		byID[a.ID] = a
	}
	for _, st := range states {
		a, ok := byID[st.AgentID]
		if !ok || a.Disabled || !hasRole(a.Roles, protocol.RoleAgent) {
			continue
		}
		if st.Status != protocol.AgentReady || st.Busy || !s.pres.online(a.ID) {
			continue
		}
		v.cands[a.ID] = &candidate{AgentID: a.ID, Load: load[a.ID], Max: v.capacity(a), LastAssigned: st.LastAssigned}
	}
	return v, nil
}

func hasRole(roles, role string) bool {
	return slices.Contains(strings.Split(roles, ","), role)
}

// capacity is the agent's maxuser: its own if set, else the largest its
// skill groups set, else the tenant's (settings, then tenant record), else
// DefaultMaxUser. One number per agent: the invariant is on its total.
func (v *view) capacity(a store.Agent) int {
	if a.MaxUser > 0 {
		return a.MaxUser
	}
	best := 0
	for _, id := range v.skills[a.ID] {
		g, ok := v.groups[id]
		if !ok {
			continue
		}
		n := g.MaxUser
		if c := v.configs[id].MaxUser; c > 0 {
			n = c
		}
		best = max(best, n)
	}
	switch {
	case best > 0:
		return best
	case v.configs[""].MaxUser > 0:
		return v.configs[""].MaxUser
	case v.tenant.MaxUser > 0:
		return v.tenant.MaxUser
	}
	return DefaultMaxUser
}

// settings resolves a skill group's routing settings over the tenant's.
func (v *view) settings(skill string) (policy string, lastAgent bool, initMax int) {
	base, own := v.configs[""], v.configs[skill]
	policy, initMax = base.Distribution, base.InitMaxUser
	lastAgent = base.LastAgent != nil && *base.LastAgent
	if skill != "" {
		if own.Distribution != "" {
			policy = own.Distribution
		}
		if own.LastAgent != nil {
			lastAgent = *own.LastAgent
		}
		if own.InitMaxUser > 0 {
			initMax = own.InitMaxUser
		}
	}
	return policy, lastAgent, initMax
}

// skillOf is the session's skill group if it exists, else none: an unknown
// or disabled group must not strand a visitor.
func (v *view) skillOf(sess store.Session) string {
	if _, ok := v.groups[sess.Skill]; ok {
		return sess.Skill
	}
	return ""
}

// choose picks the agent for sess: the agent it asked for if that agent can
// take it; else among its skill group's agents (only them: a visitor who
// chose a skill waits for it), or everyone without a skill; the agent who
// served the visitor last first when the settings say so; else by policy.
func (s *Service) choose(ctx context.Context, v *view, sess store.Session) (candidate, bool, error) {
	skill := v.skillOf(sess)
	policy, lastAgent, initMax := v.settings(skill)
	pool := make([]candidate, 0, len(v.cands))
	for id, c := range v.cands {
		if initMax > 0 && v.pulled[id] >= initMax {
			continue
		}
		if skill != "" && !slices.Contains(v.skills[id], skill) {
			if id != sess.Agent {
				continue
			}
		}
		pool = append(pool, *c)
	}
	if sess.Agent != "" {
		if c, ok := firstOf([]string{sess.Agent}, pool); ok {
			return c, true, nil
		}
	}
	if skill != "" && sess.Agent != "" && !slices.Contains(v.skills[sess.Agent], skill) {
		pool = slices.DeleteFunc(pool, func(c candidate) bool { return c.AgentID == sess.Agent })
	}
	if lastAgent {
		prev, err := s.store.LastAgents(ctx, sess.AppID, sess.UserID, 5)
		if err != nil {
			return candidate{}, false, err
		}
		if c, ok := firstOf(prev, pool); ok {
			return c, true, nil
		}
	}
	c, ok := pick(pool, policy)
	return c, ok, nil
}

// assigned records an assignment made from the view.
func (v *view) assigned(agentID string, at time.Time) {
	if c := v.cands[agentID]; c != nil {
		c.Load++
		c.LastAssigned = at
	}
	v.pulled[agentID]++
}

// positions numbers the waiting sessions within their skill group (FIFO per
// group): what each visitor is told as `num`.
func (v *view) positions(queued []store.Session) map[string]int {
	next := make(map[string]int)
	out := make(map[string]int, len(queued))
	for _, q := range queued {
		k := v.skillOf(q)
		next[k]++
		out[q.ID] = next[k]
	}
	return out
}
