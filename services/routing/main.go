// Command routing is a routing-service replica: it consumes gateway commands
// from Redis, assigns visitors to agents and tells both sides. In
// single-binary mode the gateway embeds the same service instead.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/config"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/lease"
	"github.com/kefu-im/kefu/pkg/metrics"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/services/archive"
	"github.com/kefu-im/kefu/services/routing/router"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "routing:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.LoadRouting(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := config.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel).With("node", cfg.NodeID, "component", "routing")

	reg := metrics.New()
	st, err := store.Open(ctx, store.Config{MySQLDSN: cfg.MySQLDSN, Logger: log, Observe: reg.StoreObserver()})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("KEFU_REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()

	owner := fmt.Sprintf("%s-%d", cfg.NodeID, os.Getpid())
	commands := command.NewRedis(rdb, command.RedisOptions{Consumer: owner, Logger: log})
	br := broker.NewRedis(rdb, broker.RedisOptions{Logger: log})
	defer br.Close() // before rdb.Close: publications still queued go out
	emitter := emit.New(reg.Publisher(br))
	routingMetrics := reg.Routing()
	// One replica leads (consumes and decides); the others wait on the lease.
	// Each term starts from a fresh service: what it keeps in memory
	// (presence) is rebuilt from MySQL and the gateways' heartbeats.
	lead := func(ctx context.Context, token int64) error {
		routingMetrics.Leading(true)
		defer routingMetrics.Leading(false)
		service := router.New(st, router.ClusterEmitter(emitter), log.With("term", token), router.Options{
			AgentGrace: cfg.AgentGrace, VisitorGrace: cfg.VisitorGrace, Token: token, Metrics: routingMetrics,
		})
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer archive.Start(ctx, st, log.With("component", "archive", "term", token))() // the archive's indexer: one per cluster
		timers := make(chan error, 1)
		go func() { timers <- service.Run(ctx) }()
		err := commands.Consume(ctx, service.Handle)
		cancel() // whatever ended Consume ends the timers too
		if terr := <-timers; err == nil {
			err = terr
		}
		return err
	}
	leadership := lease.New(rdb, lease.Options{Key: "kefu:routing:lease", Owner: owner, TTL: cfg.LeaseTTL, Logger: log})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.Handle("GET /metrics", reg.Handler())
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := errors.Join(st.Ping(rctx), rdb.Ping(rctx).Err()); err != nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("health server", "err", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	log.Info("routing service started", "addr", ln.Addr().String(), "agent_grace", cfg.AgentGrace, "lease_ttl", cfg.LeaseTTL)
	err = leadership.Run(ctx, lead)
	log.Info("routing service stopped")
	return err
}
