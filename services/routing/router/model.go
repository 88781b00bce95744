package router

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/sessionconf"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/workhours"
)

// tenant is the leader's picture of one tenant: agents with their state and
// load, skill groups, settings, the queue and who serves what. It is loaded
// from MySQL inside a fenced transaction (so it includes every write of an
// earlier leader) and then kept up to date by the leader's own decisions,
// since the leader is the only writer of assignments and agent states.
// Decisions read it, never the database: that is what makes a burst cheap.
type tenant struct {
	orgi    string
	record  store.Tenant
	agents  map[string]*agent
	list    []*agent                       // the same agents, in id order: iteration without map cost
	groups  map[string]store.SkillGroup    // enabled groups
	configs map[string]store.SessionConfig // skill ("" = tenant) → settings
	// effective is what the settings make of "" and each enabled group.
	effective map[string]resolved
	loc       *time.Location    // the tenant's time zone
	queue     []store.Session   // waiting, FIFO: enqueue time, then id
	served    map[string]string // session in service → agent
	// told is the last position each waiting visitor heard, so that a
	// visitor hears again only when the position changes.
	told map[string]int
	// visitorGone holds sessions whose visitor left, with when to end them.
	visitorGone map[string]time.Time
	// since is when each waiting visitor started waiting (this time).
	since map[string]time.Time
	// avoid is the agent a waiting visitor was transferred away from.
	avoid map[string]string
}

type agent struct {
	rec    store.Agent
	skills []string
	state  store.AgentState
	load   int
	// Fixed while the picture lives (a settings change reloads it).
	routable bool // role agent and enabled
	max      int  // capacity
}

// loadTenant reads a tenant's picture through the leader's transaction.
func loadTenant(ctx context.Context, st *store.Store, orgi string) (*tenant, error) {
	rec, err := st.GetTenant(ctx, orgi)
	if err != nil {
		return nil, err
	}
	agents, err := st.ListAgents(ctx, orgi)
	if err != nil {
		return nil, err
	}
	states, err := st.ListAgentStates(ctx, orgi)
	if err != nil {
		return nil, err
	}
	skills, err := st.TenantAgentSkills(ctx, orgi)
	if err != nil {
		return nil, err
	}
	groups, err := st.ListSkills(ctx, orgi)
	if err != nil {
		return nil, err
	}
	configs, err := st.SessionConfigs(ctx, orgi)
	if err != nil {
		return nil, err
	}
	queue, err := st.ListQueued(ctx, orgi, 0)
	if err != nil {
		return nil, err
	}
	served, err := st.InService(ctx, orgi)
	if err != nil {
		return nil, err
	}
	t := &tenant{
		orgi: orgi, record: rec, agents: make(map[string]*agent, len(agents)),
		groups: make(map[string]store.SkillGroup), configs: make(map[string]store.SessionConfig),
		queue: queue, served: served, told: make(map[string]int), visitorGone: make(map[string]time.Time),
		since: make(map[string]time.Time, len(queue)), avoid: make(map[string]string),
	}
	for _, q := range queue {
		// Touched last when queued (or re-queued), or by a message since:
		// never earlier than the wait began.
		t.since[q.ID] = q.UpdatedAt
	}
	for _, a := range agents {
		// An agent routing has never recorded is not ready.
		t.agents[a.ID] = &agent{rec: a, skills: skills[a.ID], state: store.AgentState{AgentID: a.ID, Orgi: orgi, Status: protocol.AgentNotReady}}
	}
	for _, s := range states {
		if a := t.agents[s.AgentID]; a != nil {
			a.state = s
		}
	}
	for _, agentID := range served {
		if a := t.agents[agentID]; a != nil {
			a.load++
		}
	}
	for _, g := range groups {
		if !g.Disabled {
			t.groups[g.ID] = g
		}
	}
	for _, c := range configs {
		t.configs[c.Skill] = c
	}
	t.resolveAll()
	t.loc = workhours.ZoneOrUTC(rec.TimeZone)
	for _, a := range t.agents {
		a.routable = !a.rec.Disabled && slices.Contains(strings.Split(a.rec.Roles, ","), protocol.RoleAgent)
		a.max = t.capacity(a)
		t.list = append(t.list, a)
	}
	slices.SortFunc(t.list, func(x, y *agent) int { return cmp.Compare(x.rec.ID, y.rec.ID) })
	return t, nil
}

// keepDecisions carries over from old what only the leader's memory knows
// for sure: the queue and its waits, who serves what (hence each agent's
// load) and the states of the agents old already had.
func (t *tenant) keepDecisions(old *tenant) {
	t.queue, t.served, t.since = old.queue, old.served, old.since
	t.told, t.visitorGone, t.avoid = old.told, old.visitorGone, old.avoid
	for _, a := range t.list {
		a.load = 0
		if o := old.agents[a.rec.ID]; o != nil {
			a.state = o.state
		}
	}
	for _, agentID := range t.served {
		if a := t.agents[agentID]; a != nil {
			a.load++
		}
	}
}

// capacity is the agent's maxuser: its own if set, else the largest its
// skill groups set, else the tenant's (settings, then tenant record), else
// the default. One number per agent: the invariant is on its total.
func (t *tenant) capacity(a *agent) int {
	if a.rec.MaxUser > 0 {
		return a.rec.MaxUser
	}
	best := 0
	for _, id := range a.skills {
		g, ok := t.groups[id]
		if !ok {
			continue
		}
		n := g.MaxUser
		if c := t.configs[id].MaxUser; c > 0 {
			n = c
		}
		best = max(best, n)
	}
	switch {
	case best > 0:
		return best
	case t.configs[""].MaxUser > 0:
		return t.configs[""].MaxUser
	case t.record.MaxUser > 0:
		return t.record.MaxUser
	}
	return sessionconf.DefaultMaxUser
}

// resolved is what the settings make of the tenant ("") or one of its
// enabled groups, worked out once per picture: decisions read it in bursts.
type resolved struct {
	sessionconf.Resolved
	timers store.SessionTimers
	hours  workhours.Hours
}

func (t *tenant) resolveAll() {
	base := t.configs[""]
	t.effective = make(map[string]resolved, len(t.groups)+1)
	for _, skill := range append([]string{""}, slices.Collect(maps.Keys(t.groups))...) {
		in := sessionconf.Input{Tenant: &base, TenantMaxUser: t.record.MaxUser}
		if skill != "" {
			own := t.configs[skill]
			in.Group, in.GroupMaxUser = &own, t.groups[skill].MaxUser
		}
		r := sessionconf.Resolve(in)
		t.effective[skill] = resolved{Resolved: r, timers: r.Timers(), hours: r.Hours()}
	}
}

// settings resolves a skill group's routing settings over the tenant's.
func (t *tenant) settings(skill string) (policy string, lastAgent bool, initMax int) {
	r := t.effective[skill]
	return r.Distribution.Value, r.LastAgent.Value, r.InitMaxUser.Value
}

// timers resolves a skill group's timers over the tenant's.
func (t *tenant) timers(skill string) store.SessionTimers { return t.effective[skill].timers }

// prompts are the tenant's texts (its own settings row holds them).
func (t *tenant) prompts() prompt.Set {
	c := t.configs[""]
	return prompt.New(c.Lang, c.Prompts)
}

// skillOf is the session's skill group if it exists, else none: an unknown
// or disabled group must not strand a visitor.
func (t *tenant) skillOf(sess store.Session) string {
	if _, ok := t.groups[sess.Skill]; ok {
		return sess.Skill
	}
	return ""
}

// enqueue puts sess in the queue at its place by enqueue time (usually the
// end; a visitor re-queued after its agent left goes back to its old place).
func (t *tenant) enqueue(sess store.Session, now time.Time) {
	if t.queued(sess.ID) >= 0 {
		return
	}
	t.since[sess.ID] = now
	i, _ := slices.BinarySearchFunc(t.queue, sess, compareQueued)
	t.queue = slices.Insert(t.queue, i, sess)
}

func compareQueued(a, b store.Session) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// queued returns sessionID's index in the queue, or -1.
func (t *tenant) queued(sessionID string) int {
	return slices.IndexFunc(t.queue, func(s store.Session) bool { return s.ID == sessionID })
}

// dequeue removes sessionID from the queue, if there.
func (t *tenant) dequeue(sessionID string) (store.Session, bool) {
	i := t.queued(sessionID)
	if i < 0 {
		return store.Session{}, false
	}
	s := t.queue[i]
	t.queue = slices.Delete(t.queue, i, i+1)
	t.forget(sessionID)
	return s, true
}

// forget drops what is kept about a waiting visitor that no longer waits.
func (t *tenant) forget(sessionID string) {
	delete(t.told, sessionID)
	delete(t.since, sessionID)
	delete(t.avoid, sessionID)
}

// waitingSince is when sess began its current wait.
func (t *tenant) waitingSince(sess store.Session) time.Time {
	if at, ok := t.since[sess.ID]; ok {
		return at
	}
	return sess.CreatedAt
}

// anyServiceTimer reports whether any timer on chats in service is set.
func (t *tenant) anyServiceTimer() bool {
	for _, c := range t.configs {
		if c.VisitorIdleWarn > 0 || c.AgentNoReply > 0 {
			return true
		}
	}
	return false
}

// serve records sessionID as served by agentID.
func (t *tenant) serve(sessionID, agentID string) {
	if prev, ok := t.served[sessionID]; ok {
		if a := t.agents[prev]; a != nil {
			a.load--
		}
	}
	t.served[sessionID] = agentID
	if a := t.agents[agentID]; a != nil {
		a.load++
	}
}

// release forgets that sessionID is served; it reports by whom.
func (t *tenant) release(sessionID string) (string, bool) {
	agentID, ok := t.served[sessionID]
	if !ok {
		return "", false
	}
	delete(t.served, sessionID)
	if a := t.agents[agentID]; a != nil {
		a.load--
	}
	return agentID, true
}

// counters are the live figures agents see.
func (t *tenant) counters(online func(string) bool) protocol.AgentCounters {
	c := protocol.AgentCounters{InQueue: len(t.queue), Users: len(t.served)}
	for _, a := range t.list {
		if a.state.Status != protocol.AgentReady || !online(a.rec.ID) {
			continue
		}
		if a.state.Busy {
			c.Busy++
		} else {
			c.Agents++
		}
	}
	return c
}
