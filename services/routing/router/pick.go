package router

import "time"

// DefaultMaxUser is UCKeFu's AGENT_STATUS_MAX_USER: the capacity of an agent
// when neither the agent nor the tenant sets one.
const DefaultMaxUser = 10

// candidate is an agent that could take a visitor now.
type candidate struct {
	AgentID      string
	Load         int // sessions in service
	Max          int // capacity
	LastAssigned time.Time
}

// pick chooses the least-loaded candidate under capacity; ties go to the
// agent idle the longest, then to the lowest id so that the choice is
// deterministic.
func pick(cands []candidate) (candidate, bool) {
	var best candidate
	found := false
	for _, c := range cands {
		if c.Load >= c.Max {
			continue
		}
		if !found || better(c, best) {
			best, found = c, true
		}
	}
	return best, found
}

func better(a, b candidate) bool {
	if a.Load != b.Load {
		return a.Load < b.Load
	}
	if !a.LastAssigned.Equal(b.LastAssigned) {
		return a.LastAssigned.Before(b.LastAssigned)
	}
	return a.AgentID < b.AgentID
}

// capacity resolves an agent's maxuser: its own, else the tenant's, else
// the default. (Skill-group capacity comes with skill routing.)
func capacity(agentMax, tenantMax int) int {
	switch {
	case agentMax > 0:
		return agentMax
	case tenantMax > 0:
		return tenantMax
	default:
		return DefaultMaxUser
	}
}
