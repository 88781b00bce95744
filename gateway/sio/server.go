package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// Defaults for Config fields left zero.
const (
	DefaultPingInterval = 25 * time.Second
	DefaultPingTimeout  = 60 * time.Second
	DefaultMaxPollBody  = 1 << 20
	DefaultSendQueue    = 256
)

// deliveryWait bounds how long Run waits, at shutdown, for sessions the
// library has opened but not yet picked up (see Run).
const deliveryWait = 10 * time.Second

// maxNamespaceLen bounds namespace names so that observing the library's
// CONNECT acknowledgements needs only a short prefix of each packet.
const maxNamespaceLen = 128

// Config configures a Server.
type Config struct {
	NodeID         string        // [a-z0-9-]{1,32}; embedded in session ids
	PingInterval   time.Duration // default 25s
	PingTimeout    time.Duration // default 60s
	MaxPacketBytes int           // default protocol.MaxPacketBytes (64 KiB)
	MaxPollBody    int64         // default 1 MiB: whole polling POST body (may batch several packets)
	SendQueue      int           // default 256 queued outbound packets per socket; beyond that the client is too slow and is disconnected
	Logger         *slog.Logger
	Observer       Observer // told what happens, for metrics; nil: nobody
}

// Observer is told of events handled and emitted, for metrics. Its methods
// are called from many goroutines and must not block.
type Observer interface {
	// Handled reports a client event and its acknowledgement: code is ""
	// for success, else the error code.
	Handled(namespace, event, code string)
	// Emitted reports an event queued to n sockets of this node.
	Emitted(namespace, event string, n int)
}

type noObserver struct{}

func (noObserver) Handled(string, string, string) {}
func (noObserver) Emitted(string, string, int)    {}

// Server wraps a go-socket.io server. It is an http.Handler for /socket.io/.
type Server struct {
	cfg Config
	log *slog.Logger
	io  *socketio.Server

	// base is the parent of every socket's context; cancelled by Run at
	// shutdown so handlers still running see it.
	base       context.Context
	cancelBase context.CancelFunc

	tasks tasks // goroutines and connections Run waits for

	started chan struct{} // closed once Run accepts requests

	mu          sync.Mutex
	running     bool
	closing     bool
	wires       map[*wire]struct{}
	bySID       map[string]*wire
	undelivered map[*wire]struct{}
	deliveredCh chan struct{} // closed and replaced when undelivered shrinks

	nsMu       sync.RWMutex
	namespaces map[string]*Namespace // by public name
}

// New validates cfg, applies defaults and builds a Server. Register
// namespaces and handlers before calling Run and serving requests.
func New(cfg Config) (*Server, error) {
	gen, err := newSIDGenerator(cfg.NodeID)
	if err != nil {
		return nil, err
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	if cfg.MaxPacketBytes <= 0 {
		cfg.MaxPacketBytes = protocol.MaxPacketBytes
	}
	if cfg.MaxPollBody <= 0 {
		cfg.MaxPollBody = DefaultMaxPollBody
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = DefaultSendQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}

	s := &Server{
		cfg:         cfg,
		log:         cfg.Logger.With("component", "sio", "node", cfg.NodeID),
		wires:       make(map[*wire]struct{}),
		bySID:       make(map[string]*wire),
		undelivered: make(map[*wire]struct{}),
		deliveredCh: make(chan struct{}),
		namespaces:  make(map[string]*Namespace),
		started:     make(chan struct{}),
	}
	s.tasks.init()
	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.io = socketio.NewServer(&engineio.Options{
		PingInterval:       cfg.PingInterval,
		PingTimeout:        cfg.PingTimeout,
		SessionIDGenerator: gen,
		// Order matters: the engine offers upgrades to the transports
		// listed after the current one, so polling clients are told they
		// may upgrade to websocket.
		Transports: []transport.Transport{newPollTransport(s), newWSTransport(s, cfg.MaxPacketBytes)},
		ConnInitor: s.connInitor,
	})
	// The library refuses every connection unless the root namespace has a
	// handler; ours is a no-op unless the caller asks for Namespace("/").
	s.namespace("/", false)
	return s, nil
}

var errShuttingDown = errors.New("sio: server is shutting down")

// reqStateKey carries per-request state from ServeHTTP to our transports and
// connInitor, which the library calls with the same *http.Request.
type reqStateKey struct{}

type reqState struct {
	wire *wire // the wire a handshake request created
}

// ServeHTTP serves Engine.IO requests. Mount it at /socket.io/; CORS, origin
// checks and OPTIONS preflights are the caller's job.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.running && !s.closing
	s.mu.Unlock()
	if !ok {
		// Before Run the library would accept sessions nobody serves;
		// after it, sessions nobody will ever close.
		http.Error(w, "socket.io server not running", http.StatusServiceUnavailable)
		return
	}
	if sid := r.URL.Query().Get("sid"); sid != "" {
		if wr := s.lookupWire(sid); wr != nil {
			ctx, cancel := context.WithTimeout(r.Context(), deliveryWait)
			wr.waitDelivered(ctx)
			cancel()
			if wr.currentTransport() == "websocket" {
				// Nothing may follow a websocket: the library would treat
				// another request as an upgrade and park it until the
				// session ends (or its ping timeout), holding a connection
				// per request.
				http.Error(w, "session already uses websocket", http.StatusBadRequest)
				return
			}
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), reqStateKey{}, &reqState{}))
	if r.Method == http.MethodPost {
		// One polling POST may batch several packets, but the library would
		// read a body of any size; beyond the limit the read fails and the
		// library closes the session.
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxPollBody)
	}
	s.io.ServeHTTP(w, r)
}

// attachWire is called by our transports' Accept. A handshake request (no
// sid) gets a new wire; an upgrade request joins the session's wire.
func (s *Server) attachWire(r *http.Request, transportName string) (*wire, error) {
	sid := r.URL.Query().Get("sid")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, errShuttingDown
	}
	if sid != "" {
		if w, ok := s.bySID[sid]; ok {
			return w, nil
		}
	}
	w := newWire(s, r, transportName)
	s.wires[w] = struct{}{}
	if st, ok := r.Context().Value(reqStateKey{}).(*reqState); ok && sid == "" {
		st.wire = w
	}
	return w, nil
}

// connInitor is the library's ConnInitor: it runs right after the library
// created a session for a handshake request and hands us the session object
// we write our packets to.
func (s *Server) connInitor(r *http.Request, c engineio.Conn) {
	st, ok := r.Context().Value(reqStateKey{}).(*reqState)
	if !ok || st.wire == nil {
		s.log.Error("sio: session without a wire; closing it", "sid", c.ID())
		_ = c.Close()
		return
	}
	st.wire.setEIO(c)
}

func (s *Server) bindWire(w *wire, sid string) {
	s.mu.Lock()
	if _, live := s.wires[w]; live {
		s.bySID[sid] = w
	}
	s.mu.Unlock()
}

func (s *Server) forgetWire(w *wire, sid string) {
	s.mu.Lock()
	delete(s.wires, w)
	if sid != "" && s.bySID[sid] == w {
		delete(s.bySID, sid)
	}
	s.mu.Unlock()
}

func (s *Server) lookupWire(sid string) *wire {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bySID[sid]
}

func (s *Server) markOpened(w *wire) {
	s.mu.Lock()
	s.undelivered[w] = struct{}{}
	s.mu.Unlock()
}

func (s *Server) markDelivered(w *wire) {
	s.mu.Lock()
	if _, ok := s.undelivered[w]; ok {
		delete(s.undelivered, w)
		close(s.deliveredCh)
		s.deliveredCh = make(chan struct{})
	}
	s.mu.Unlock()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Run serves the library until ctx ends, then closes every socket and waits
// for everything the server started. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running || s.closing {
		s.mu.Unlock()
		return errors.New("sio: Run called twice")
	}
	s.running = true
	s.mu.Unlock()
	close(s.started)

	serveDone := make(chan error, 1)
	go func() { serveDone <- s.io.Serve() }()

	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-serveDone:
		serveErr = fmt.Errorf("sio: library stopped serving: %w", err)
		serveDone <- err // put it back for the wait below
	}

	s.shutdown()

	// The library hands new sessions to Serve through a channel that
	// Close closes; a session whose OPEN packet went out is sent there
	// shortly after, and a send on the closed channel would panic inside
	// the library. Every transport is closed by now and no new one can
	// start, so only already-opened sessions can still arrive: wait until
	// Serve has picked each of them up.
	if err := s.waitDelivered(deliveryWait); err != nil {
		s.log.Error("sio: sessions still pending at shutdown; leaving the library running", "err", err)
		return err
	}
	_ = s.io.Close()
	<-serveDone
	s.tasks.wait()
	return serveErr
}

// Started is closed once Run accepts requests (before that, requests are
// answered 503).
func (s *Server) Started() <-chan struct{} { return s.started }

// shutdown stops accepting requests and closes every socket and transport.
func (s *Server) shutdown() {
	s.mu.Lock()
	s.closing = true
	wires := make([]*wire, 0, len(s.wires))
	for w := range s.wires {
		wires = append(wires, w)
	}
	s.mu.Unlock()

	// Finish sockets first so that OnDisconnect reports the real reason.
	for _, ns := range s.allNamespaces() {
		for _, sock := range ns.snapshot() {
			sock.finish(ReasonServerShutdown)
		}
	}
	s.cancelBase()
	for _, w := range wires {
		w.closeTransports()
	}
}

func (s *Server) waitDelivered(limit time.Duration) error {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		s.mu.Lock()
		n := len(s.undelivered)
		ch := s.deliveredCh
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return fmt.Errorf("sio: %d sessions not delivered after %s", n, limit)
		}
	}
}

// Namespace returns the namespace called name ("/im/user"), creating it on
// first use. Create namespaces before serving: the library registers a
// namespace without synchronising with connections already running.
// It panics on a name that does not start with "/" or is too long, which is
// a programming error.
func (s *Server) Namespace(name string) *Namespace {
	return s.namespace(name, true)
}

func (s *Server) namespace(name string, expose bool) *Namespace {
	if name == "" {
		name = "/"
	}
	if name[0] != '/' || len(name) > maxNamespaceLen {
		panic(fmt.Sprintf("sio: invalid namespace name %q", name))
	}
	s.nsMu.Lock()
	defer s.nsMu.Unlock()
	ns, ok := s.namespaces[name]
	if !ok {
		ns = newNamespace(s, name)
		s.namespaces[name] = ns
		s.io.OnConnect(name, ns.libConnect)
		s.io.OnDisconnect(name, ns.libDisconnect)
		s.io.OnError(name, ns.libError)
	}
	if expose {
		ns.mu.Lock()
		ns.exposed = true
		ns.mu.Unlock()
	}
	return ns
}

func (s *Server) lookupNamespace(name string) *Namespace {
	s.nsMu.RLock()
	defer s.nsMu.RUnlock()
	return s.namespaces[name]
}

func (s *Server) allNamespaces() []*Namespace {
	s.nsMu.RLock()
	defer s.nsMu.RUnlock()
	out := make([]*Namespace, 0, len(s.namespaces))
	for _, ns := range s.namespaces {
		out = append(out, ns)
	}
	return out
}

// EmitLocal queues event to every socket of this node in room of namespace
// (room "" means every socket in the namespace) except the one whose ID() is
// except. Each socket gets it at most once. It never blocks and returns how
// many sockets it was queued to. Used by the cluster broker.
func (s *Server) EmitLocal(namespace, room, except, event string, data json.RawMessage) int {
	ns := s.lookupNamespace(namespace)
	if ns == nil {
		return 0
	}
	pkt, err := encodeEvent(ns.lib, event, data)
	if err != nil {
		s.log.Error("sio: EmitLocal dropped", "namespace", namespace, "room", room, "event", event, "err", err)
		return 0
	}
	n := 0
	for _, sock := range ns.targets(room) {
		if sock.id == except {
			continue
		}
		if sock.deliverLive(event, data, pkt) {
			n++
		}
	}
	s.cfg.Observer.Emitted(namespace, event, n)
	return n
}

// DisconnectLocal closes the connections of this node's sockets in room of
// namespace once what is already queued for them has been written, and
// returns how many it closes. The cluster uses it to end a login everywhere:
// emit `leave` to the login's room, then disconnect the room.
func (s *Server) DisconnectLocal(namespace, room string) int {
	ns := s.lookupNamespace(namespace)
	if ns == nil || room == "" {
		return 0
	}
	socks := ns.targets(room)
	for _, sock := range socks {
		sock.closeWhenSent()
	}
	return len(socks)
}

// Count returns how many sockets of namespace on this node are connected
// (their OnConnect succeeded and they have not disconnected).
func (s *Server) Count(namespace string) int {
	ns := s.lookupNamespace(namespace)
	if ns == nil {
		return 0
	}
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.open
}

// Connections counts this node's connected sockets by namespace and by
// transport ("polling" or "websocket"), as they are now.
func (s *Server) Connections() map[[2]string]int {
	out := make(map[[2]string]int)
	for _, ns := range s.allNamespaces() {
		for _, sock := range ns.snapshot() {
			if sock.isOpen() {
				out[[2]string{ns.name, sock.Transport()}]++
			}
		}
	}
	return out
}

// tasks counts goroutines and connections the server owns. Unlike
// sync.WaitGroup it allows adding while someone waits, which happens when a
// library callback finishes a socket during shutdown.
type tasks struct {
	mu   sync.Mutex
	n    int
	zero *sync.Cond
}

func (t *tasks) init() { t.zero = sync.NewCond(&t.mu) }

func (t *tasks) add() {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
}

func (t *tasks) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		t.zero.Broadcast()
	}
	t.mu.Unlock()
}

// goFunc runs f in a goroutine counted by t.
func (t *tasks) goFunc(f func()) {
	t.add()
	go func() {
		defer t.done()
		f()
	}()
}

func (t *tasks) wait() {
	t.mu.Lock()
	for t.n > 0 {
		t.zero.Wait()
	}
	t.mu.Unlock()
}
