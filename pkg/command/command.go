// Package command carries commands from gateways to the routing service on a
// durable channel: a command sent is handled at least once even if the
// routing replica that read it dies, so handlers must be idempotent (use
// Command.ID to drop duplicates).
//
// Two implementations: Memory for the single-binary mode and Redis (a
// stream read through a consumer group) for a cluster.
package command

import (
	"context"
	"time"
)

// Kinds of command.
const (
	// VisitorRequest asks for an agent for session SessionID (status inquene).
	VisitorRequest = "visitor.request"
	// AgentStatus sets agent AgentID's Status (ready|notready) and/or Busy.
	AgentStatus = "agent.status"
	// AgentConnected / AgentDisconnected report agent socket SocketID of
	// agent AgentID on node Node.
	AgentConnected    = "agent.connected"
	AgentDisconnected = "agent.disconnected"
	// NodeAlive is a gateway's periodic heartbeat: Sockets lists every agent
	// socket it holds, replacing what routing knew of that node. It rebuilds
	// presence after a routing restart or a lost stream; a node whose
	// heartbeats stop is taken to have lost its sockets.
	NodeAlive = "node.alive"
	// VisitorJoined / VisitorLeft report visitor socket SocketID of open
	// session SessionID on node Node: a session whose visitor has no socket
	// left for a grace period ends (a page reload does not end it).
	VisitorJoined = "visitor.joined"
	VisitorLeft   = "visitor.left"
	// Transfer moves session SessionID from its agent to agent AgentID, or
	// to skill group Skill, with Memo; By is who asked (an agent id),
	// Override lets a supervisor exceed the target's capacity. The outcome
	// is sent to ReplyTo (see protocol.TransferResult).
	Transfer = "session.transfer"
	// SessionEnd ends session SessionID (by EndBy).
	SessionEnd = "session.end"
	// ConfigChanged says tenant Orgi's routing settings or agents changed
	// (capacity may have grown): serve the queue.
	ConfigChanged = "config.changed"

	// Supervision. Who may ask was checked by the gateway; each answers
	// ReplyTo with a protocol.TransferResult (MonitorSnapshot: a
	// protocol.MonitorPicture).
	//
	// MonitorSnapshot asks for tenant Orgi's live picture: agents with
	// presence and load, the queue with positions, the counters.
	MonitorSnapshot = "monitor.snapshot"
	// TakeOver moves session SessionID in service to supervisor By at once,
	// over its capacity; its agent gets `transout` (强接).
	TakeOver = "session.takeover"
	// QueueAssign hands waiting session SessionID to agent AgentID (By
	// itself: "take it"); another agent's capacity and readiness hold
	// unless Override.
	QueueAssign = "queue.assign"
	// QueueMove moves waiting session SessionID to skill group Skill, at
	// its place by enqueue time, and routes it again.
	QueueMove = "queue.move"
	// QueueReroute drops waiting session SessionID's skill group and
	// requested agent and routes it again, to anyone.
	QueueReroute = "queue.reroute"
	// AgentOffline sets agent AgentID offline at once (By a supervisor):
	// its chats go back to the head of the queue, as when its grace ends.
	AgentOffline = "agent.offline"
)

// HeartbeatInterval is how often a gateway sends NodeAlive.
const HeartbeatInterval = 10 * time.Second

// Command is one instruction to the routing service.
type Command struct {
	ID        string      `json:"id"` // unique, required; used to drop duplicates
	Kind      string      `json:"kind"`
	Orgi      string      `json:"orgi"`
	SessionID string      `json:"sessionid,omitempty"`
	AgentID   string      `json:"agentid,omitempty"`
	Status    string      `json:"status,omitempty"`
	Busy      *bool       `json:"busy,omitempty"`
	EndBy     string      `json:"endby,omitempty"`
	Node      string      `json:"node,omitempty"`
	SocketID  string      `json:"socketid,omitempty"`
	Sockets   []SocketRef `json:"sockets,omitempty"`
	Skill     string      `json:"skill,omitempty"`
	Memo      string      `json:"memo,omitempty"`
	By        string      `json:"by,omitempty"`
	Override  bool        `json:"override,omitempty"`
	ReplyTo   string      `json:"replyto,omitempty"`
	At        time.Time   `json:"at"`
}

// SocketRef is one agent socket in a NodeAlive heartbeat.
type SocketRef struct {
	AgentID  string `json:"agentid"`
	Orgi     string `json:"orgi"`
	SocketID string `json:"socketid"`
}

// Sender sends commands to the routing service.
type Sender interface {
	// Send returns once the command is durably queued: it will be handled
	// even if no consumer is running yet or the one that reads it dies.
	// (With Redis, "durably" is as durable as the Redis server's data: a
	// Redis that restarts without persistence forgets queued commands, and
	// the system recovers by re-announcing state, not by replaying them.)
	// A command without an ID is rejected. On error the command may or may
	// not have been queued; sending it again with the same ID is safe.
	Send(ctx context.Context, c Command) error
}

// Handler handles a batch of commands, in send order; a nil error
// acknowledges them all, anything else leaves the whole batch to be
// delivered again. Batches let a handler commit many decisions at once.
//
// Handlers must be idempotent: delivery is at-least-once, so a command can
// arrive twice (its consumer died before acknowledging it, the
// acknowledgement was lost, or a batch failed after handling part of it). A
// failed batch is retried in place, with backoff, before any later command
// is handled, so an error stalls the queue behind it: return an error only
// for failures that will pass (store unavailable); log and drop a command
// that can never succeed.
type Handler func(ctx context.Context, cs []Command) error

// Consumer receives commands.
type Consumer interface {
	// Consume calls h with the commands, a batch at a time (as many as are
	// waiting, up to a bound), in send order, until ctx ends. Commands left unacknowledged by a consumer that died are
	// delivered again to a live one, possibly after newer commands. Several
	// consumers on one queue share the commands between them, so send order
	// holds only while one consumer is active. Consume survives the loss of
	// its backend and returns ctx.Err() only when ctx ends.
	Consume(ctx context.Context, h Handler) error
}
