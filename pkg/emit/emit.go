// Package emit addresses events to rooms across the cluster, for gateways and
// back-end services alike.
package emit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// Emitter publishes events through a broker.
type Emitter struct {
	pub broker.Publisher
}

// New returns an Emitter on pub.
func New(pub broker.Publisher) *Emitter { return &Emitter{pub: pub} }

// ToRoom emits event with payload v to every socket in room of namespace,
// on every node, except the socket with id except (may be empty).
func (e *Emitter) ToRoom(ctx context.Context, namespace, room, event string, v any, except string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("emit %s: encode: %w", event, err)
	}
	msg := broker.Message{Namespace: namespace, Room: room, Except: except, Event: event, Data: data}
	if err := e.pub.Publish(ctx, msg); err != nil {
		return fmt.Errorf("emit %s to %s: %w", event, room, err)
	}
	return nil
}

// ToVisitor emits to every socket of one visitor.
func (e *Emitter) ToVisitor(ctx context.Context, appID, userID, event string, v any) error {
	return e.ToRoom(ctx, protocol.NamespaceUser, protocol.VisitorRoom(appID, userID), event, v, "")
}

// ToAgent emits to every socket of one agent.
func (e *Emitter) ToAgent(ctx context.Context, agentID, event string, v any) error {
	return e.ToRoom(ctx, protocol.NamespaceAgent, protocol.AgentRoom(agentID), event, v, "")
}

// ToTenantAgents emits to every agent socket of a tenant.
func (e *Emitter) ToTenantAgents(ctx context.Context, orgi, event string, v any) error {
	return e.ToRoom(ctx, protocol.NamespaceAgent, protocol.TenantAgentsRoom(orgi), event, v, "")
}

// ToMonitors publishes a supervision event about one chat (scope names its
// skill group, agent and session; Data is filled from v) to the tenant's
// supervisors: each gateway hands it to its supervisor sockets whose scope
// covers that chat (gateway/monitor), never to the chat's own agent.
func (e *Emitter) ToMonitors(ctx context.Context, orgi, event string, scope protocol.Mirror, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("emit %s: encode: %w", event, err)
	}
	scope.Data = data
	return e.ToRoom(ctx, protocol.NamespaceAgent, protocol.MonitorRoom(orgi), event, scope, "")
}

// AskGatewaysToAnnounce has every gateway send its heartbeat now.
func (e *Emitter) AskGatewaysToAnnounce(ctx context.Context) error {
	return e.ToRoom(ctx, protocol.NamespaceControl, "", protocol.EventAnnounce, struct{}{}, "")
}

// Reply answers a command that named replyTo, on whichever gateway waits.
func (e *Emitter) Reply(ctx context.Context, replyTo string, v any) error {
	return e.ToRoom(ctx, protocol.NamespaceControl, protocol.ReplyRoom(replyTo), protocol.EventReply, v, "")
}

// Batch returns an Emitter that holds what it is given, and flush, which
// publishes all of it, in order, in one round trip (broker.PublishMany):
// what a routing batch announces goes out at once rather than message by
// message. The batch Emitter is for one goroutine.
func (e *Emitter) Batch() (batch *Emitter, flush func(context.Context) error) {
	held := &holder{}
	return &Emitter{pub: held}, func(ctx context.Context) error {
		msgs := held.msgs
		held.msgs = nil
		return e.pub.PublishMany(ctx, msgs)
	}
}

// holder is a Publisher that keeps messages for a later PublishMany.
type holder struct{ msgs []broker.Message }

func (h *holder) Publish(_ context.Context, msg broker.Message) error {
	h.msgs = append(h.msgs, msg)
	return nil
}

func (h *holder) PublishMany(_ context.Context, msgs []broker.Message) error {
	h.msgs = append(h.msgs, msgs...)
	return nil
}
