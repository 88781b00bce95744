package chat

import (
	"context"

	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/logging"
)

// socketContext adds who a socket is to ctx, for the lines logged while
// serving it: its Engine.IO session id (the load balancer's and the
// client's view of the connection) and, once known, the visitor or agent.
func socketContext(ctx context.Context, sock *sio.Socket) context.Context {
	args := []any{"sid", sock.SessionID()}
	if v := visitorOf(sock); v != nil {
		args = append(args, "appid", v.site.AppID, "userid", v.userID)
	}
	if p := PrincipalOf(sock); p.Agent.ID != "" {
		args = append(args, "agentid", p.Agent.ID)
	}
	return logging.With(ctx, args...)
}

// Handle is sio.Handle with the socket's identity in the handler's context
// (its log lines say which socket, visitor or agent they are about).
func Handle[T any](ns *sio.Namespace, event string, h func(context.Context, *sio.Socket, T) (any, error)) {
	sio.Handle(ns, event, func(ctx context.Context, sock *sio.Socket, p T) (any, error) {
		return h(socketContext(ctx, sock), sock, p)
	})
}

// onConnect is h with socketContext applied to its context.
func onConnect(h func(context.Context, *sio.Socket) error) func(context.Context, *sio.Socket) error {
	return func(ctx context.Context, sock *sio.Socket) error { return h(socketContext(ctx, sock), sock) }
}
