// Package node assembles one gateway node from its dependencies: the HTTP
// stack with every route and page, the Socket.IO namespaces, and the fan-in
// of what the broker delivers. The binary and the tests build a node the
// same way, so a test sees what production serves.
package node

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api"
	"github.com/kefu-im/kefu/gateway/api/archive"
	"github.com/kefu-im/kefu/gateway/api/audit"
	"github.com/kefu-im/kefu/gateway/api/contacts"
	"github.com/kefu-im/kefu/gateway/api/platform"
	"github.com/kefu-im/kefu/gateway/api/quality"
	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/api/supervise"
	"github.com/kefu-im/kefu/gateway/ask"
	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/gateway/chat"
	"github.com/kefu-im/kefu/gateway/monitor"
	"github.com/kefu-im/kefu/gateway/relay"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/gateway/sitecache"
	"github.com/kefu-im/kefu/gateway/web"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Online is the cluster's registry of visitors with the widget open.
type Online interface {
	chat.OnlineRegistry
	api.OnlineVisitors
}

// Deps are what a node is built from; main wires them.
type Deps struct {
	Store    *store.Store
	Sites    *sitecache.Cache
	Auth     *auth.Service
	Signer   *identity.Signer
	Emit     *emit.Emitter
	Commands command.Sender
	Online   Online
	Locator  api.Locator // nil: no visitor locations
	Sockets  *sio.Server
	// Metrics serves /metrics (nil: not served).
	Metrics http.Handler
	// Ready checks the node's backends for /readyz.
	Ready func(ctx context.Context) error

	NodeID         string
	PublicURL      string
	AllowedOrigins []string // origins staff pages may come from, beyond PublicURL's
	TrustProxy     bool
	VisitorRate    int
	// RelayBench mounts the benchmark's /relay namespace and pprof.
	RelayBench bool
	Logger     *slog.Logger
}

// Node is one assembled gateway node.
type Node struct {
	// Echo serves every HTTP route, /socket.io/ included.
	Echo *echo.Echo
	// Chat runs the chat namespaces; main runs its heartbeat and online
	// refresh loops.
	Chat *chat.Service

	// Access resolves supervision rights and scopes for every part.
	Access *access.Resolver
	// Monitor serves supervisors' live view; main runs it (Run).
	Monitor *monitor.Hub

	replies  *ask.Replies
	draining atomic.Bool
}

// New builds a node: namespaces registered on d.Sockets, routes on a fresh
// HTTP stack.
func New(d Deps) *Node {
	n := &Node{replies: ask.NewReplies(), Access: access.NewResolver(d.Store, 0)}
	n.Chat = chat.New(chat.Deps{
		Store: chatStore{d.Store, d.Sites}, Emit: d.Emit, Commands: d.Commands, Signer: d.Signer,
		Auth: d.Auth, Access: n.Access, Online: d.Online, NodeID: d.NodeID, ClientIP: api.ClientIP(d.TrustProxy), Logger: d.Logger,
	})
	n.Chat.Register(d.Sockets)
	asker := ask.Asker{Commands: d.Commands, Replies: n.replies}
	n.Monitor = monitor.New(monitor.Deps{Store: d.Store, Access: n.Access, Ask: asker, NodeID: d.NodeID, Logger: d.Logger})
	n.Monitor.Register(d.Sockets)
	if d.RelayBench {
		relay.Register(d.Sockets, d.Emit)
	}

	e := api.NewServer(api.ServerOptions{Logger: d.Logger, TrustProxy: d.TrustProxy})
	origins := &api.Origins{Sites: d.Sites, Staff: append([]string{originOf(d.PublicURL)}, d.AllowedOrigins...)}
	e.Use(origins.Middleware)
	// Every admin and platform change, whichever package serves it.
	e.Use(audit.Middleware(d.Store, d.Logger))
	api.New(api.Deps{
		Store: d.Store, Blobs: d.Store, Sites: d.Sites, Auth: d.Auth, Access: n.Access, Signer: d.Signer, Emit: d.Emit, Commands: d.Commands,
		Ask: asker, Online: d.Online, Locator: d.Locator,
		PublicURL: d.PublicURL, VisitorRate: d.VisitorRate, NodeID: d.NodeID, Logger: d.Logger,
	}).Register(e)
	staff := e.Group("/api/v1", request.Authenticate(d.Auth))
	archive.New(archive.Deps{Store: d.Store, Access: n.Access, Logger: d.Logger}).Register(staff)
	audit.New(audit.Deps{Store: d.Store, Logger: d.Logger}).Register(staff)
	quality.New(quality.Deps{Store: d.Store, Access: n.Access, Logger: d.Logger}).Register(staff)
	supervise.New(supervise.Deps{Store: d.Store, Access: n.Access, Ask: asker, NodeID: d.NodeID, Logger: d.Logger}).Register(staff)
	platform.New(platform.Deps{Store: d.Store, Emit: d.Emit, Sites: d.Sites, Logger: d.Logger}).Register(staff)
	contacts.New(contacts.Deps{Store: d.Store, Logger: d.Logger}).Register(staff)
	e.Any("/socket.io/", echo.WrapHandler(d.Sockets))
	pages(e)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	if d.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(d.Metrics))
	}
	if d.RelayBench {
		d.Logger.Warn("benchmark mode (KEFU_RELAY_BENCH): /relay namespace and /debug/pprof/ enabled; never use it in production")
		e.GET("/debug/pprof/*", echo.WrapHandler(relay.Profiling()))
	}
	e.GET("/readyz", func(c echo.Context) error {
		if n.draining.Load() {
			return c.String(http.StatusServiceUnavailable, "draining")
		}
		rctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if d.Ready != nil {
			if err := d.Ready(rctx); err != nil {
				d.Logger.Warn("not ready", "err", err)
				return c.String(http.StatusServiceUnavailable, "not ready")
			}
		}
		return c.String(http.StatusOK, "ready")
	})
	n.Echo = e
	return n
}

// pages mounts the embedded front ends.
func pages(e *echo.Echo) {
	e.GET("/demo/*", echo.WrapHandler(http.StripPrefix("/demo", web.Handler())))
	e.GET("/assets/*", echo.WrapHandler(http.StripPrefix("/assets", web.Handler())))
	page := func(path, file string) {
		e.GET(path, func(c echo.Context) error {
			web.ServeFile(c.Response(), c.Request(), file, "")
			return nil
		})
	}
	page("/admin/", "admin.html")
	page("/agent/", "workbench.html")
	e.GET("/agent", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/agent/") })
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/demo/") })
}

// Deliver hands what the broker delivers to whoever on this node it is for:
// the routing service's answers to their waiters, the rest to the sockets.
func (n *Node) Deliver(m broker.Message) {
	if m.Namespace == protocol.NamespaceControl && m.Event == protocol.EventReply {
		n.replies.Deliver(strings.TrimPrefix(m.Room, protocol.ReplyRoom("")), m.Data)
		return
	}
	if m.Namespace == protocol.NamespaceAgent && strings.HasPrefix(m.Room, protocol.MonitorRoom("")) {
		n.Monitor.Deliver(m)
		return
	}
	n.Chat.Deliver(m)
}

// Drain makes /readyz fail, so that the load balancer sends no new clients.
func (n *Node) Drain() { n.draining.Store(true) }

// Close stops the node's pending work (draft deliveries).
func (n *Node) Close() { n.Chat.Close() }

// originOf turns the public URL into the Origin browsers send for it.
func originOf(publicURL string) string {
	scheme, rest, ok := strings.Cut(publicURL, "://")
	if !ok {
		return publicURL
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// chatStore answers site lookups from the cache and the rest from the store.
type chatStore struct {
	*store.Store
	sites *sitecache.Cache
}

func (c chatStore) GetSite(ctx context.Context, appID string) (store.Site, error) {
	return c.sites.GetSite(ctx, appID)
}
