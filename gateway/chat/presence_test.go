package chat

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/protocol"
)

func TestHeartbeatOnStartAndWhenRoutingAsks(t *testing.T) {
	cmds := command.NewMemory()
	s := New(Deps{Commands: cmds, NodeID: "gw1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.agents.add(command.SocketRef{AgentID: "a", Orgi: "o", SocketID: "s1"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan command.Command, 8)
	go func() {
		_ = cmds.Consume(ctx, func(_ context.Context, cs []command.Command) error {
			for _, c := range cs {
				got <- c
			}
			return nil
		})
	}()
	hb := make(chan error, 1)
	go func() { hb <- s.RunHeartbeat(ctx) }()
	next := func(what string) command.Command {
		t.Helper()
		select {
		case c := <-got:
			return c
		case <-time.After(5 * time.Second): // far below the 10 s interval
			t.Fatalf("no heartbeat %s", what)
			return command.Command{}
		}
	}
	first := next("at start")
	if first.Kind != command.NodeAlive || first.Node != "gw1" || len(first.Sockets) != 1 || first.Sockets[0].SocketID != "s1" {
		t.Fatalf("heartbeat: %+v", first)
	}
	s.agents.remove("s1")
	s.Deliver(broker.Message{Namespace: protocol.NamespaceControl, Event: protocol.EventAnnounce, Data: []byte(`{}`)})
	if again := next("after the announce request"); again.Kind != command.NodeAlive || len(again.Sockets) != 0 {
		t.Fatalf("second heartbeat: %+v", again)
	}
	cancel()
	if err := <-hb; err != nil {
		t.Fatal(err)
	}
}
