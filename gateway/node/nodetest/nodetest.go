// Package nodetest runs a whole gateway node for tests, assembled as the
// binary assembles it (node.New): a migrated store (SQLite, or MariaDB with
// Options.MySQL), the in-process broker and command queue, the embedded
// routing service, and an HTTP test server. The demo tenant is seeded.
// Only tests import it.
package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/loadgen/eio"
	"github.com/kefu-im/kefu/gateway/node"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/gateway/sitecache"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
	"github.com/kefu-im/kefu/services/routing/router"
)

// libraryLogs routes the Socket.IO library's own logs (process-wide) away
// from the test output, once.
var libraryLogs sync.Once

// Password is the demo users' password.
const Password = "nodetest-pass-1"

// Options tune Start.
type Options struct {
	// MySQL uses a fresh MariaDB database (storetest.MySQL: skipped
	// without a server) instead of SQLite.
	MySQL bool
	// NoRouting leaves the routing service out (commands stay queued).
	NoRouting bool
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// TrustProxy takes clients' addresses from X-Forwarded-For.
	TrustProxy bool
	// SignIn throttles logins (zero fields: the defaults).
	SignIn throttle.Policy
}

// Node is a running test node.
type Node struct {
	URL    string
	Store  *store.Store
	Node   *node.Node
	Signer *identity.Signer
	t      testing.TB
}

// Start runs a node until the test ends.
func Start(t testing.TB, o Options) *Node {
	t.Helper()
	var st *store.Store
	if o.MySQL {
		st = storetest.MySQL(t)
	} else {
		st = storetest.SQLite(t)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	libraryLogs.Do(func() { sio.RouteLibraryLogs(slog.New(slog.DiscardHandler)) })
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := demo.Seed(ctx, st, Password); err != nil {
		t.Fatal(err)
	}
	signer, err := identity.NewSigner(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	authSvc, err := auth.New(st, time.Hour, o.SignIn)
	if err != nil {
		t.Fatal(err)
	}
	br := broker.NewMemory()
	cmds := command.NewMemory()
	emitter := emit.New(br)
	sockets, err := sio.New(sio.Config{NodeID: "n1", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	n := node.New(node.Deps{
		Store: st, Sites: sitecache.New(st, time.Millisecond), Auth: authSvc, Signer: signer, Emit: emitter,
		Commands: cmds, Online: online.NewMemory(), Sockets: sockets, NodeID: "n1",
		PublicURL: "http://localhost", TrustProxy: o.TrustProxy, VisitorRate: 1000, Logger: log,
	})
	var wg sync.WaitGroup
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && ctx.Err() == nil {
				t.Errorf("nodetest: %v", err)
			}
		}()
	}
	run(func() error { return sockets.Run(ctx) })
	run(func() error { return br.Subscribe(ctx, n.Deliver) })
	run(func() error { return n.Monitor.Run(ctx) })
	if !o.NoRouting {
		r := router.New(st, router.ClusterEmitter(emitter), log, router.Options{})
		run(func() error { return cmds.Consume(ctx, r.Handle) })
		run(func() error { return r.Run(ctx) })
	}
	srv := httptest.NewServer(n.Echo)
	<-sockets.Started()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		cancel()
		srv.Close()
		wg.Wait()
		n.Close()
	})
	return &Node{URL: srv.URL, Store: st, Node: n, Signer: signer, t: t}
}

// Do sends a JSON request (body nil: none) with a bearer token (may be
// empty) and decodes a JSON answer into out (if non-nil and the answer has
// a body). It returns the response, body already read.
func (n *Node) Do(method, path, token string, body, out any) *http.Response {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			n.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.URL+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatal(err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			n.t.Fatalf("%s %s: %d %s: decode: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp
}

// Refused checks that a request fails with status and an error message
// containing want (reported on t, which may be a subtest's).
func (n *Node) Refused(t testing.TB, method, path, token string, body any, status int, want string) {
	t.Helper()
	var out struct {
		Error protocol.Error `json:"error"`
	}
	resp := n.Do(method, path, token, body, &out)
	if resp.StatusCode != status || !strings.Contains(out.Error.Message, want) {
		t.Errorf("%s %s %v: %d %+v, want %d %q", method, path, body, resp.StatusCode, out.Error, status, want)
	}
}

// Login signs username in and returns the token.
func (n *Node) Login(username, password string) string {
	n.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	resp := n.Do(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, &out)
	if resp.StatusCode != http.StatusOK || out.Token == "" {
		n.t.Fatalf("login %s: %d", username, resp.StatusCode)
	}
	return out.Token
}

// Admin is the demo admin's token.
func (n *Node) Admin() string { return n.Login(demo.Admin, Password) }

// Socket connects a Go Socket.IO client to namespace (e.g. "/im/agent")
// with query; events go to onEvent (may be nil). Closed when the test ends.
func (n *Node) Socket(namespace string, query url.Values, onEvent func(event string, arg json.RawMessage)) *eio.Client {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := eio.Dial(ctx, eio.Config{URL: n.URL, Namespace: namespace, Query: query, OnEvent: onEvent})
	if err != nil {
		n.t.Fatalf("connect %s: %v", namespace, err)
	}
	n.t.Cleanup(func() { _ = c.Close() })
	return c
}

// Visitor is a signed visitor identity on the demo site.
func (n *Node) Visitor(userID string) url.Values {
	return url.Values{"appid": {demo.AppID}, "userid": {userID}, "sign": {n.Signer.Sign(demo.AppID, userID)}}
}

// Staff creates a staff member of tenant orgi directly in the store, with
// roles (comma-separated), capacity and skill groups, and a login: bcrypt
// costs seconds under the race detector, and what is tested here is not
// how people sign in. It returns the member's id and token.
func (n *Node) Staff(orgi, username, roles string, maxUser int, skills ...string) (id, token string) {
	n.t.Helper()
	ctx := context.Background()
	a := &store.Agent{Orgi: orgi, Username: username, PasswordHash: "!", Nickname: username, Roles: roles, MaxUser: maxUser}
	if err := n.Store.CreateAgent(ctx, a, skills); err != nil {
		n.t.Fatalf("staff %s: %v", username, err)
	}
	token, hash := identity.NewToken()
	if err := n.Store.CreateToken(ctx, store.Token{Hash: hash, AgentID: a.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		n.t.Fatalf("staff %s: %v", username, err)
	}
	return a.ID, token
}
