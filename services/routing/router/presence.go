package router

import (
	"maps"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
)

// presence is what routing knows of agents' live sockets, from the
// gateways' connect and disconnect commands and their heartbeats. Only an
// agent with a live socket is routed to. An agent whose last socket went
// away keeps its chats for a grace period (a page reload, a network blip);
// when it ends, the agent goes offline and its visitors back to the queue.
type presence struct {
	sockets  map[string]socketRef       // socket id → owner
	byAgent  map[string]map[string]bool // agent id → its socket ids
	nodeSeen map[string]time.Time       // node → last heartbeat
	grace    map[string]pendingOffline  // agent id → when it goes offline
	// Visitors' sockets of open sessions, as far as joins and leaves tell
	// (heartbeats carry agents only: after a takeover a visitor's sockets
	// are unknown until it joins or leaves again).
	visitors  map[string]visitorRef // socket id → session
	bySession map[string]int        // session id → sockets
}

type visitorRef struct{ sessionID, orgi, node string }

type socketRef struct{ agentID, orgi, node string }

type pendingOffline struct {
	orgi     string
	deadline time.Time
}

func newPresence() *presence {
	return &presence{
		sockets:   make(map[string]socketRef),
		byAgent:   make(map[string]map[string]bool),
		nodeSeen:  make(map[string]time.Time),
		grace:     make(map[string]pendingOffline),
		visitors:  make(map[string]visitorRef),
		bySession: make(map[string]int),
	}
}

// clone copies p, to be restored if a batch fails.
func (p *presence) clone() *presence {
	c := &presence{
		sockets: maps.Clone(p.sockets), byAgent: make(map[string]map[string]bool, len(p.byAgent)),
		nodeSeen: maps.Clone(p.nodeSeen), grace: maps.Clone(p.grace),
		visitors: maps.Clone(p.visitors), bySession: maps.Clone(p.bySession),
	}
	for id, socks := range p.byAgent {
		c.byAgent[id] = maps.Clone(socks)
	}
	return c
}

// addVisitor records a visitor socket of an open session.
func (p *presence) addVisitor(node, socketID, sessionID, orgi string) {
	if _, known := p.visitors[socketID]; known {
		return
	}
	p.visitors[socketID] = visitorRef{sessionID: sessionID, orgi: orgi, node: node}
	p.bySession[sessionID]++
}

// removeVisitor forgets a visitor socket; it reports whether the session
// has none left that routing knows of.
func (p *presence) removeVisitor(socketID, sessionID string) bool {
	if ref, ok := p.visitors[socketID]; ok {
		delete(p.visitors, socketID)
		sessionID = ref.sessionID
		p.bySession[sessionID]--
	}
	if p.bySession[sessionID] > 0 {
		return false
	}
	delete(p.bySession, sessionID)
	return true
}

// anyDue reports whether an agent's grace has ended by now or a node has
// been silent since before cutoff.
func (p *presence) anyDue(now, cutoff time.Time) bool {
	for _, g := range p.grace {
		if !now.Before(g.deadline) {
			return true
		}
	}
	for _, seen := range p.nodeSeen {
		if seen.Before(cutoff) {
			return true
		}
	}
	return false
}

func (p *presence) online(agentID string) bool { return len(p.byAgent[agentID]) > 0 }

// inGrace reports whether an agent without sockets is still within its grace.
func (p *presence) inGrace(agentID string) bool {
	_, ok := p.grace[agentID]
	return ok
}

// add records a socket; it reports whether the socket is new to routing and
// whether its agent just came online.
func (p *presence) add(node, socketID, agentID, orgi string) (added, came bool) {
	if _, known := p.sockets[socketID]; known {
		return false, false
	}
	came = !p.online(agentID)
	p.sockets[socketID] = socketRef{agentID: agentID, orgi: orgi, node: node}
	if p.byAgent[agentID] == nil {
		p.byAgent[agentID] = make(map[string]bool)
	}
	p.byAgent[agentID][socketID] = true
	delete(p.grace, agentID)
	return true, came
}

// remove forgets a socket; an agent left without any starts its grace.
func (p *presence) remove(socketID string, deadline time.Time) {
	ref, ok := p.sockets[socketID]
	if !ok {
		return
	}
	delete(p.sockets, socketID)
	delete(p.byAgent[ref.agentID], socketID)
	if len(p.byAgent[ref.agentID]) == 0 {
		delete(p.byAgent, ref.agentID)
		p.grace[ref.agentID] = pendingOffline{orgi: ref.orgi, deadline: deadline}
	}
}

// replaceNode makes node's sockets exactly refs (a heartbeat). It returns
// the tenants of agents that came online.
func (p *presence) replaceNode(node string, refs []command.SocketRef, now, deadline time.Time) []string {
	p.nodeSeen[node] = now
	keep := make(map[string]bool, len(refs))
	var came []string
	for _, r := range refs {
		keep[r.SocketID] = true
		if _, online := p.add(node, r.SocketID, r.AgentID, r.Orgi); online {
			came = append(came, r.Orgi)
		}
	}
	for id, ref := range p.sockets {
		if ref.node == node && !keep[id] {
			p.remove(id, deadline)
		}
	}
	return came
}

// expireNodes drops the sockets of nodes silent since before cutoff: a
// gateway that died sent no disconnects. It returns the sessions (id →
// tenant) whose visitors are left without a socket.
func (p *presence) expireNodes(cutoff, deadline time.Time) map[string]string {
	gone := make(map[string]string)
	for node, seen := range p.nodeSeen {
		if !seen.Before(cutoff) {
			continue
		}
		delete(p.nodeSeen, node)
		for id, ref := range p.sockets {
			if ref.node == node {
				p.remove(id, deadline)
			}
		}
		for id, ref := range p.visitors {
			if ref.node == node && p.removeVisitor(id, ref.sessionID) {
				gone[ref.sessionID] = ref.orgi
			}
		}
	}
	return gone
}

// expectBack starts a grace period for an agent routing has not heard of
// yet (after a restart, until the gateways' heartbeats arrive).
func (p *presence) expectBack(agentID, orgi string, deadline time.Time) {
	if p.online(agentID) {
		return
	}
	if _, pending := p.grace[agentID]; !pending {
		p.grace[agentID] = pendingOffline{orgi: orgi, deadline: deadline}
	}
}

// due removes and returns the agents whose grace ended by now.
func (p *presence) due(now time.Time) map[string]string {
	out := make(map[string]string)
	for agentID, g := range p.grace {
		if !now.Before(g.deadline) {
			out[agentID] = g.orgi
			delete(p.grace, agentID)
		}
	}
	return out
}
