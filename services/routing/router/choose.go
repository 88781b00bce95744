package router

import (
	"slices"

	"github.com/kefu-im/kefu/pkg/store"
)

// choose picks the agent for sess: the agent it asked for if that agent can
// take it; else among its skill group's agents (only them: a visitor who
// chose a skill waits for it), or everyone without a skill; the agent who
// served the visitor last first when the settings say so; else by policy.
// pulled counts what each agent took in this pass (initmaxuser); exclude is
// an agent not to choose (the one a transfer moves the chat away from).
func (b *batch) choose(t *tenant, sess store.Session, pulled map[string]int, exclude string) (string, bool, error) {
	skill := t.skillOf(sess)
	policy, lastAgent, initMax := t.settings(skill)
	pool := b.pool[:0] // reused: a burst makes thousands of choices
	defer func() { b.pool = pool[:0] }()
	for _, a := range t.list {
		id := a.rec.ID
		if id == exclude || !b.takesVisitors(a) || (initMax > 0 && pulled[id] >= initMax) {
			continue
		}
		if skill != "" && !slices.Contains(a.skills, skill) && id != sess.Agent {
			continue
		}
		pool = append(pool, candidate{AgentID: id, Load: a.load, Max: a.max, LastAssigned: a.state.LastAssigned})
	}
	if sess.Agent != "" {
		if c, ok := firstOf([]string{sess.Agent}, pool); ok {
			return c.AgentID, true, nil
		}
		if skill != "" && (t.agents[sess.Agent] == nil || !slices.Contains(t.agents[sess.Agent].skills, skill)) {
			pool = slices.DeleteFunc(pool, func(c candidate) bool { return c.AgentID == sess.Agent })
		}
	}
	if lastAgent {
		prev, err := b.rd.LastAgents(b.ctx, sess.AppID, sess.UserID, 5)
		if err != nil {
			return "", false, err
		}
		if c, ok := firstOf(prev, pool); ok {
			return c.AgentID, true, nil
		}
	}
	c, ok := pick(pool, policy)
	return c.AgentID, ok, nil
}
