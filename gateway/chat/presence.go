package chat

import (
	"context"
	"sync"
	"time"

	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/store"
)

// agentSockets is this node's register of agent sockets, reported to the
// routing service as they come and go and in every heartbeat.
type agentSockets struct {
	mu sync.Mutex
	m  map[string]command.SocketRef // socket id → ref
}

func (a *agentSockets) add(r command.SocketRef) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = make(map[string]command.SocketRef)
	}
	a.m[r.SocketID] = r
}

func (a *agentSockets) remove(socketID string) (command.SocketRef, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.m[socketID]
	delete(a.m, socketID)
	return r, ok
}

func (a *agentSockets) snapshot() []command.SocketRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]command.SocketRef, 0, len(a.m))
	for _, r := range a.m {
		out = append(out, r)
	}
	return out
}

// announce tells routing about one socket. A lost announcement is repaired
// by the next heartbeat, so failure is only logged.
func (s *Service) announce(ctx context.Context, kind string, r command.SocketRef) {
	err := s.Commands.Send(ctx, command.Command{
		ID: store.NewID(), Kind: kind, Orgi: r.Orgi, AgentID: r.AgentID, SocketID: r.SocketID,
		Node: s.NodeID, At: time.Now().UTC(),
	})
	if err != nil {
		s.Logger.WarnContext(ctx, "agent presence not announced", "kind", kind, "agentid", r.AgentID, "socket", r.SocketID, "err", err)
	}
}

func (s *Service) agentDisconnect(sock *sio.Socket, _ string) {
	if r, ok := s.agents.remove(sock.ID()); ok {
		// The socket's own context has ended; this outlives it briefly.
		ctx, cancel := context.WithTimeout(socketContext(context.Background(), sock), 5*time.Second)
		defer cancel()
		s.announce(ctx, command.AgentDisconnected, r)
	}
}

// RunHeartbeat sends routing this node's agent sockets every
// command.HeartbeatInterval until ctx ends: it rebuilds routing's picture
// after a restart or a lost stream, and its absence tells routing that this
// node died.
func (s *Service) RunHeartbeat(ctx context.Context) error {
	t := time.NewTicker(command.HeartbeatInterval)
	defer t.Stop()
	for {
		err := s.Commands.Send(ctx, command.Command{
			ID: store.NewID(), Kind: command.NodeAlive, Node: s.NodeID, Sockets: s.agents.snapshot(), At: time.Now().UTC(),
		})
		if err != nil && ctx.Err() == nil {
			s.Logger.Warn("heartbeat not sent", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.beat:
		}
	}
}

// heartbeatNow has RunHeartbeat send one at once (a routing replica that
// took over asked for it); requests while one is pending merge.
func (s *Service) heartbeatNow() {
	select {
	case s.beat <- struct{}{}:
	default:
	}
}
