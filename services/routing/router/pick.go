package router

import (
	"slices"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// The distribution policies, named as in the session settings API.
const (
	PolicyLeast = protocol.DistributionLeast
	PolicyIdle  = protocol.DistributionIdle
	PolicyRound = protocol.DistributionRound
)

// candidate is an agent that could take a visitor now.
type candidate struct {
	AgentID      string
	Load         int // sessions in service
	Max          int // capacity
	LastAssigned time.Time
}

// pick chooses among the candidates under capacity by policy; every tie
// ends at the lowest id so that the choice is deterministic.
func pick(cands []candidate, policy string) (candidate, bool) {
	open := slices.DeleteFunc(slices.Clone(cands), func(c candidate) bool { return c.Load >= c.Max })
	if len(open) == 0 {
		return candidate{}, false
	}
	if policy == PolicyRound {
		return nextInTurn(cands, open), true
	}
	better := leastLoaded
	if policy == PolicyIdle {
		better = idlest
	}
	best := open[0]
	for _, c := range open[1:] {
		if better(c, best) {
			best = c
		}
	}
	return best, true
}

func leastLoaded(a, b candidate) bool {
	if a.Load != b.Load {
		return a.Load < b.Load
	}
	return idleOrder(a, b)
}

func idlest(a, b candidate) bool {
	if !a.LastAssigned.Equal(b.LastAssigned) {
		return a.LastAssigned.Before(b.LastAssigned)
	}
	if a.Load != b.Load {
		return a.Load < b.Load
	}
	return a.AgentID < b.AgentID
}

func idleOrder(a, b candidate) bool {
	if !a.LastAssigned.Equal(b.LastAssigned) {
		return a.LastAssigned.Before(b.LastAssigned)
	}
	return a.AgentID < b.AgentID
}

// nextInTurn returns the first open agent, in id order, after the one
// served most recently among all candidates (full ones included, so that a
// full agent does not reset the turn).
func nextInTurn(all, open []candidate) candidate {
	var last candidate
	for _, c := range all {
		// Assignments in the same instant were made in id order, so of
		// equal times the higher id came last.
		if c.LastAssigned.After(last.LastAssigned) || (c.LastAssigned.Equal(last.LastAssigned) && !c.LastAssigned.IsZero() && c.AgentID > last.AgentID) {
			last = c
		}
	}
	slices.SortFunc(open, func(a, b candidate) int {
		switch {
		case a.AgentID < b.AgentID:
			return -1
		case a.AgentID > b.AgentID:
			return 1
		}
		return 0
	})
	for _, c := range open {
		if c.AgentID > last.AgentID {
			return c
		}
	}
	return open[0]
}

// firstOf returns the first agent of prefer that is an open candidate
// (last-served agent first).
func firstOf(prefer []string, cands []candidate) (candidate, bool) {
	for _, id := range prefer {
		if i := slices.IndexFunc(cands, func(c candidate) bool { return c.AgentID == id && c.Load < c.Max }); i >= 0 {
			return cands[i], true
		}
	}
	return candidate{}, false
}
