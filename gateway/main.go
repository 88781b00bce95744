// Command gateway is a Kefu gateway node: the Socket.IO namespaces, the REST
// API and the web pages. With no configuration it is the whole product in
// one process: embedded SQLite store, in-process broker and routing service,
// and a seeded demo tenant. `gateway admin ...` administers the
// installation instead (gateway/admincli).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // tenants' time zones load on images without a zone database

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/gateway/admincli"
	"github.com/kefu-im/kefu/gateway/api"
	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/gateway/chat"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/gateway/sitecache"
	"github.com/kefu-im/kefu/gateway/web"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/config"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/geoip"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/logging"
	"github.com/kefu-im/kefu/pkg/metrics"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/services/archive"
	"github.com/kefu-im/kefu/services/routing/router"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "admin" {
		err = admincli.Run(ctx, os.Args[2:], os.Getenv, admincli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	} else {
		err = run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// bus is the cluster plumbing: in-process in single-binary mode, Redis otherwise.
type bus struct {
	broker   broker.Broker
	commands interface {
		command.Sender
		command.Consumer
	}
	online interface {
		chat.OnlineRegistry
		api.OnlineVisitors
	}
	ping  func(context.Context) error
	close func() error
}

func newBus(cfg config.Gateway, log *slog.Logger) (bus, error) {
	if !cfg.Cluster() {
		return bus{
			broker:   broker.NewMemory(),
			commands: command.NewMemory(),
			online:   online.NewMemory(),
			ping:     func(context.Context) error { return nil },
			close:    func() error { return nil },
		}, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return bus{}, fmt.Errorf("KEFU_REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	br := broker.NewRedis(rdb, broker.RedisOptions{Logger: log})
	return bus{
		broker: br,
		commands: command.NewRedis(rdb, command.RedisOptions{
			Consumer: fmt.Sprintf("%s-%d", cfg.NodeID, os.Getpid()), Logger: log,
		}),
		online: online.NewRedis(rdb, ""),
		ping:   func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		// Publications still queued go out before the client closes.
		close: func() error { return errors.Join(br.Close(), rdb.Close()) },
	}, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.LoadGateway(args, getenv, stderr)
	if err != nil {
		return err
	}
	// Lines logged with a context carry its request or socket attributes
	// (request_id, sid, ...; see pkg/logging).
	log := slog.New(logging.NewHandler(config.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel).Handler())).With("node", cfg.NodeID)

	var locator api.Locator
	if cfg.GeoIPDB != "" {
		// Set but unreadable is a mistake to fix, not a reason to run
		// quietly without the locations the operator asked for.
		geo, err := geoip.Open(cfg.GeoIPDB)
		if err != nil {
			return fmt.Errorf("KEFU_GEOIP_DB: %w", err)
		}
		defer geo.Close()
		locator = geo
		log.Info("geoip database", "type", geo.Type(), "built", geo.Built().UTC().Format(time.DateOnly))
	}

	reg := metrics.New()
	st, err := store.Open(ctx, store.Config{
		MySQLDSN: cfg.MySQLDSN, SQLitePath: cfg.SQLitePath(), Logger: log, Observe: reg.StoreObserver(),
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	secret := cfg.Secret
	if secret == "" {
		// Single-binary mode: generate once, keep in the database, so visitor
		// identities survive restarts.
		if secret, err = st.Setting(ctx, "visitor_secret", func() (string, error) { return identity.NewSecret(), nil }); err != nil {
			return err
		}
	}
	signer, err := identity.NewSigner(secret)
	if err != nil {
		return err
	}
	if cfg.SeedDemo {
		res, err := demo.Seed(ctx, st, cfg.DemoPassword)
		if err != nil {
			return err
		}
		if len(res.Created) > 0 {
			log.Info("demo seeded", "created", strings.Join(res.Created, ", "))
			if cfg.DemoPassword == "" && res.Password != "" {
				fmt.Fprintf(stdout, "Demo users created: %s and %s, password %s\n", demo.Admin, demo.Agent, res.Password)
			}
		}
	}

	b, err := newBus(cfg, log)
	if err != nil {
		return err
	}
	defer b.close()
	emitter := emit.New(reg.Publisher(b.broker))
	sites := sitecache.New(st, 5*time.Second)
	authSvc, err := auth.New(st, config.TokenTTL, throttle.DefaultPolicy())
	if err != nil {
		return err
	}
	sio.RouteLibraryLogs(log)
	var sockets *sio.Server
	sockets, err = sio.New(sio.Config{NodeID: cfg.NodeID, Logger: log, Observer: reg.Sockets(func() map[[2]string]int { return sockets.Connections() })})
	if err != nil {
		return err
	}
	gw := node.New(node.Deps{
		Store: st, Sites: sites, Auth: authSvc, Signer: signer, Emit: emitter, Commands: b.commands, Online: b.online,
		Locator: locator, Sockets: sockets, Metrics: reg.Handler(),
		Ready:  func(ctx context.Context) error { return errors.Join(st.Ping(ctx), b.ping(ctx)) },
		NodeID: cfg.NodeID, PublicURL: cfg.PublicURL, AllowedOrigins: cfg.AllowedOrigins, TrustProxy: cfg.TrustProxy,
		VisitorRate: cfg.VisitorRate, RelayBench: cfg.RelayBench, Logger: log,
	})
	defer gw.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: gw.Echo, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	// Every goroutine below ends when ctx does; run waits for all of them.
	// A signal does not end them at once: the drain below decides when.
	signalled := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	errc := make(chan error, 16)
	workers := 0
	start := func(name string, f func() error) {
		workers++
		go func() {
			err := f()
			if err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%s: %w", name, err)
			} else {
				err = nil
			}
			errc <- err
		}()
	}
	start("sockets", func() error { return sockets.Run(ctx) })
	start("broker", func() error {
		return b.broker.Subscribe(ctx, gw.Deliver)
	})
	start("heartbeat", func() error { return gw.Chat.RunHeartbeat(ctx) })
	start("online visitors", func() error { return gw.Chat.RunOnlineRefresh(ctx) })
	start("monitor", func() error { return gw.Monitor.Run(ctx) })
	if cfg.Routing == "embedded" {
		routingMetrics := reg.Routing()
		routingMetrics.Leading(true) // the only router there is
		routing := router.New(st, router.ClusterEmitter(emitter), log.With("component", "routing"), router.Options{AgentGrace: cfg.AgentGrace, VisitorGrace: cfg.VisitorGrace, Metrics: routingMetrics})
		start("routing", func() error { return b.commands.Consume(ctx, routing.Handle) })
		start("routing timers", func() error { return routing.Run(ctx) })
		defer archive.Start(ctx, st, log.With("component", "archive"))() // the archive's indexer
	}
	start("http", func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})

	log.Info("gateway listening", "addr", ln.Addr().String(), "routing", cfg.Routing, "cluster", cfg.Cluster())
	fmt.Fprintf(stdout, "Kefu is running.\n  Agent workbench: %[1]s/agent/\n  Site admin:      %[1]s/admin/\n  Visitor demo:    %[1]s/demo/visitor.html\n", cfg.PublicURL)
	if !web.Built() {
		fmt.Fprintln(stdout, "  (front-end assets are not built yet: run `make run`)")
	}

	var firstErr error
	select {
	case <-signalled.Done():
		// Drain: fail /readyz so that the load balancer sends no new
		// clients here, keep serving meanwhile, then close the sockets
		// (their clients reconnect, through the balancer, to other nodes).
		gw.Drain()
		delay := cfg.DrainDelay
		if !cfg.Cluster() {
			delay = 0 // one process: no balancer to wait for
		}
		log.Info("draining", "delay", delay)
		select {
		case <-time.After(delay):
		case firstErr = <-errc:
			workers--
		}
	case firstErr = <-errc:
		workers--
	}
	cancel()
	shutdownCtx, done := context.WithTimeout(context.Background(), shutdownTimeout)
	defer done()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	for ; workers > 0; workers-- {
		if err := <-errc; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	log.Info("gateway stopped")
	return firstErr
}

// shutdownTimeout bounds finishing in-flight requests after the drain.
const shutdownTimeout = 10 * time.Second
