// Package relaytest starts in-process gateway nodes serving /relay, for the
// tests of the relay and of the load generator. Only tests import it.
package relaytest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/relay"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/emit"
)

// Cluster starts two nodes' Socket.IO servers sharing one in-process
// broker, each delivering the broker's messages to its sockets as
// gateway/main.go does, and returns their base URLs. mount, if set, adds
// handlers to each node's mux. Everything stops when the test ends.
func Cluster(t testing.TB, mount func(*http.ServeMux)) []string {
	t.Helper()
	b := broker.NewMemory()
	em := emit.New(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var urls []string
	for i := range 2 {
		// A short ping timeout: the library holds a polling POST that is in
		// flight when its session closes until then, and the test server's
		// Close waits for it.
		srv, err := sio.New(sio.Config{
			NodeID: fmt.Sprintf("n%d", i), PingInterval: time.Second, PingTimeout: 2 * time.Second,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		relay.Register(srv, em)
		mux := http.NewServeMux()
		mux.Handle("/socket.io/", srv)
		if mount != nil {
			mount(mux)
		}
		ts := httptest.NewServer(mux)
		t.Cleanup(ts.Close) // after cancel and wg.Wait below (cleanups run last-in first-out)
		urls = append(urls, ts.URL)
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := srv.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		go func() {
			defer wg.Done()
			_ = b.Subscribe(ctx, func(m broker.Message) { srv.EmitLocal(m.Namespace, m.Room, m.Except, m.Event, m.Data) })
		}()
		select {
		case <-srv.Started():
		case <-time.After(10 * time.Second):
			t.Fatal("server did not start")
		}
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return urls
}
