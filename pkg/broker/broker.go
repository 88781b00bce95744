// Package broker fans Socket.IO emits out to every gateway node, so that
// "emit to room R of namespace N except socket S" behaves as it would on one
// node. Back-end services publish through it too.
//
// Two implementations: Memory for the single-binary mode and Redis (pub/sub
// over a small fixed set of sharded channels) for a cluster. Delivery is
// at-most-once, like Socket.IO's own adapters: anything that must survive a
// lost message (chat history, session state) lives in MySQL and is recovered
// by clients on reconnect, not by the broker.
package broker

import (
	"context"
	"encoding/json"
)

// Message is one emit. An empty Room means the whole namespace.
type Message struct {
	Namespace string          `json:"n"`
	Room      string          `json:"r,omitempty"`
	Except    string          `json:"x,omitempty"` // socket id that must not receive it
	Event     string          `json:"e"`
	Data      json.RawMessage `json:"d,omitempty"` // must be valid JSON if set
}

// Publisher sends emits to every node.
type Publisher interface {
	// Publish hands msg to every node that is running Subscribe, this one
	// included. Each such node receives it at most once, and exactly once
	// while its subscription is healthy. Publish does not wait for delivery
	// to sockets; an error means no node will receive it.
	//
	// Order: messages for the same (Namespace, Room) published one after
	// another by one publisher (each Publish returning before the next
	// starts) are delivered to every node in that order. Nothing is promised
	// across rooms, nor between a room and its namespace-wide broadcasts.
	Publish(ctx context.Context, msg Message) error
	// PublishMany publishes msgs as consecutive Publish calls would, in
	// order, but at the cost of one round trip. On error, a prefix of msgs
	// may have been published.
	PublishMany(ctx context.Context, msgs []Message) error
}

// Broker is a Publisher that can also receive.
type Broker interface {
	Publisher
	// Subscribe calls deliver for every message published by any node, in
	// the order described on Publish, until ctx ends; calls to deliver are
	// sequential. deliver must not block (hand off to per-socket queues) and
	// must not modify msg.Data, which may be shared with other subscribers.
	//
	// Subscribe survives the loss of its backend: it reconnects and
	// resubscribes by itself, and returns ctx.Err() only when ctx ends.
	// Messages published while it was disconnected are not delivered to it.
	Subscribe(ctx context.Context, deliver func(Message)) error
}
