package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kefu-im/kefu/gateway/loadgen/eio"
)

// runner holds what every scenario shares: the clients' plumbing, the
// clock, the send pool and the measurements.
type runner struct {
	cfg    config
	log    *slog.Logger
	runID  string
	epoch  time.Time // message timestamps are nanoseconds since epoch
	hc     *http.Client
	dialer *websocket.Dialer
	nodes  []*watched // gateways (or peer nodes), in -gateways order
	pool   *sendPool
	tr     *tracker

	// The measured window, in nanoseconds since epoch; messages stamped
	// inside it count. Set before the driver starts.
	windowStart, windowEnd atomic.Int64

	seq atomic.Uint64

	fwd, back, rtt, ack, lag histogram
	mirror                   histogram // message send → its mirror at a supervisor
	mirrored                 atomic.Int64

	sent, ackedOK, ackErrors        atomic.Int64
	fwdDelivered, backSent, backDel atomic.Int64
	duplicates                      atomic.Int64
	connAttempted, connEstablished  atomic.Int64
	connFailed                      atomic.Int64
	errs                            errorCounts

	mu      sync.Mutex
	clients []*eio.Client
	perNode []int
}

func newRunner(cfg config, log *slog.Logger, runID string) *runner {
	tr := &http.Transport{
		Proxy:               nil, // everything is on loopback
		MaxIdleConnsPerHost: max(1024, 4*(cfg.visitors+cfg.agents)),
		IdleConnTimeout:     90 * time.Second,
	}
	r := &runner{
		cfg:   cfg,
		log:   log,
		runID: runID,
		epoch: time.Now(),
		hc:    &http.Client{Transport: tr},
		dialer: &websocket.Dialer{
			HandshakeTimeout: 30 * time.Second,
			ReadBufferSize:   4096,
			WriteBufferSize:  4096,
			WriteBufferPool:  &sync.Pool{},
		},
		tr:      newTracker(),
		perNode: make([]int, len(cfg.gateways)),
	}
	r.windowStart.Store(-1)
	r.windowEnd.Store(-1)
	for i, u := range cfg.gateways {
		w := &watched{name: fmt.Sprintf("node%d", i+1), url: u}
		if i < len(cfg.pids) {
			w.pid = cfg.pids[i]
		}
		r.nodes = append(r.nodes, w)
	}
	return r
}

// now is the time since epoch, the timestamp messages carry.
func (r *runner) now() int64 { return int64(time.Since(r.epoch)) }

// counted reports whether a message stamped t is inside the window.
func (r *runner) counted(t int64) bool {
	s, e := r.windowStart.Load(), r.windowEnd.Load()
	return s >= 0 && t >= s && t < e
}

// legs is how many legs one message has: the forward one, and the reply.
func (r *runner) legs() int64 {
	if r.cfg.reply {
		return 2
	}
	return 1
}

// transportFor picks client i's transport.
func (r *runner) transportFor(i int) string {
	switch r.cfg.transport {
	case "polling":
		return eio.Polling
	case "mix":
		if i%2 == 1 {
			return eio.Polling
		}
	}
	return eio.Websocket
}

// dial connects client i to a namespace of gateway node, and counts it.
func (r *runner) dial(ctx context.Context, node, i int, nsp string, q url.Values, onEvent func(string, json.RawMessage)) (*eio.Client, error) {
	r.connAttempted.Add(1)
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	c, err := eio.Dial(ctx, eio.Config{
		URL: r.cfg.gateways[node], Namespace: nsp, Query: q, Transport: r.transportFor(i),
		HTTPClient: r.hc, Dialer: r.dialer, OnEvent: onEvent,
	})
	if err != nil {
		r.connFailed.Add(1)
		r.errs.add(errKind("connect "+nsp, err))
		return nil, err
	}
	r.connEstablished.Add(1)
	r.mu.Lock()
	r.clients = append(r.clients, c)
	r.perNode[node]++
	r.mu.Unlock()
	return c, nil
}

// closeClients closes every client, a few hundred at a time.
func (r *runner) closeClients() {
	r.mu.Lock()
	cs := r.clients
	r.clients = nil
	r.mu.Unlock()
	parallel(context.Background(), len(cs), 256, func(_ context.Context, i int) { _ = cs[i].Close() })
}

// countDisconnects records clients that ended before the run did.
func (r *runner) countDisconnects() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.clients {
		if err := c.Err(); err != nil {
			r.errs.add(errKind("disconnected", err))
		}
	}
}

// parallel runs f(0..n-1) with at most conc at a time, until ctx ends.
func parallel(ctx context.Context, n, conc int, f func(ctx context.Context, i int)) {
	sem := make(chan struct{}, max(1, conc))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(ctx, i)
		}()
	}
	wg.Wait()
}

// apiError is an error answer of Kefu's REST API.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.status, e.code, e.msg)
}

// rest calls Kefu's REST API with a JSON body and decodes the JSON answer.
func (r *runner) rest(ctx context.Context, method, u, token string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return &apiError{status: resp.StatusCode, code: e.Error.Code, msg: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode %.100q: %w", method, u, b, err)
	}
	return nil
}

// restKind names a REST failure for the error counts.
func restKind(op string, err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s: HTTP %d %s", op, ae.status, ae.code)
	}
	return errKind(op, err)
}

// ---- acknowledgements and legs ----

// acked records a forward message's acknowledgement. An error answer means
// nothing was published: its legs are not awaited.
func (r *runner) acked(t int64, counted bool, ack json.RawMessage, err error) {
	if err != nil {
		r.errs.add(errKind("ack", err))
		if counted {
			r.ackErrors.Add(1)
		}
		return
	}
	if !bytes.HasPrefix(ack, []byte(`{"ok":true`)) {
		var a struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(ack, &a)
		r.errs.add("ack: " + a.Error.Code)
		if counted {
			r.ackErrors.Add(1)
			r.tr.unexpect(r.legs())
		}
		return
	}
	if counted {
		r.ackedOK.Add(1)
		r.ack.record(time.Duration(r.now() - t))
	}
}

// replyAcked records a reply's acknowledgement.
func (r *runner) replyAcked(counted bool, ack json.RawMessage, err error) {
	if err != nil {
		r.errs.add(errKind("reply ack", err))
		return
	}
	if !bytes.HasPrefix(ack, []byte(`{"ok":true`)) {
		var a struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(ack, &a)
		r.errs.add("reply ack: " + a.Error.Code)
		if counted {
			r.tr.unexpect(1)
		}
	}
}

// willSend registers a forward message stamped t; it reports whether it
// counts.
func (r *runner) willSend(seq uint64, t int64) bool {
	if !r.counted(t) {
		return false
	}
	r.sent.Add(1)
	r.tr.sent(seq, r.legs())
	return true
}

// sendFailed undoes willSend for a message that could not be written.
func (r *runner) sendFailed(counted bool, err error) {
	r.errs.add(errKind("send", err))
	if counted {
		r.tr.unexpect(r.legs())
	}
}

// forwardArrived records the forward leg of message seq stamped t.
func (r *runner) forwardArrived(f *flow, seq uint64, t int64) {
	now := r.now()
	if r.counted(t) {
		if r.tr.arrived(seq, legForward) {
			r.fwdDelivered.Add(1)
			r.fwd.record(time.Duration(now - t))
		} else {
			r.duplicates.Add(1)
		}
	}
	if !r.cfg.reply {
		f.release()
	}
}

// backArrived records the reply to message seq (stamped t), itself sent at t2.
func (r *runner) backArrived(f *flow, seq uint64, t, t2 int64) {
	now := r.now()
	if r.counted(t) {
		if r.tr.arrived(seq, legBack) {
			r.backDel.Add(1)
			r.back.record(time.Duration(now - t2))
			r.rtt.record(time.Duration(now - t))
		} else {
			r.duplicates.Add(1)
		}
	}
	f.release()
}

// ---- the send pool ----

// sendPool runs sends off the dispatcher and the readers: a slow write
// then delays only the worker doing it. Its workers are its own; close
// stops them.
type sendPool struct {
	jobs chan func()
	stop chan struct{}
	mu   sync.RWMutex
	shut bool
	wg   sync.WaitGroup
}

func newSendPool(workers, queue int) *sendPool {
	p := &sendPool{jobs: make(chan func(), queue), stop: make(chan struct{})}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for f := range p.jobs {
				f()
			}
		}()
	}
	return p
}

// submit queues f, waiting while the queue is full; false once closed.
func (p *sendPool) submit(f func()) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.shut {
		return false
	}
	select {
	case p.jobs <- f:
		return true
	case <-p.stop:
		return false
	}
}

// close drops nothing already queued: the workers finish the queue.
func (p *sendPool) close() {
	p.mu.RLock()
	shut := p.shut
	p.mu.RUnlock()
	if shut {
		return
	}
	close(p.stop) // unblocks submitters waiting for room
	p.mu.Lock()
	p.shut = true
	close(p.jobs)
	p.mu.Unlock()
	p.wg.Wait()
}

// ---- flows and the driver ----

// flow is one sender and its receiver: a visitor and its agent, or a
// relay pair. send stamps and writes the forward leg of message seq.
type flow struct {
	id     int
	send   func(seq uint64)
	tokens chan struct{} // closed loop: messages this flow may still have in flight
}

// release returns a closed-loop token (no-op in open loop).
func (f *flow) release() {
	if f.tokens == nil {
		return
	}
	select {
	case f.tokens <- struct{}{}:
	default:
	}
}

// drive sends until ctx ends: at cfg.rate messages per second spread
// evenly over the flows (open loop), or, with rate 0, as fast as each flow
// gets its messages through with cfg.window in flight (closed loop).
func (r *runner) drive(ctx context.Context, flows []*flow) {
	if len(flows) == 0 {
		return
	}
	if r.cfg.rate <= 0 {
		r.closedLoop(ctx, flows)
		return
	}
	r.openLoop(ctx, flows)
}

func (r *runner) openLoop(ctx context.Context, flows []*flow) {
	start := time.Now()
	perMsg := time.Duration(float64(time.Second) / r.cfg.rate)
	var issued int64
	next := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		// Message k is due at start + k×perMsg, the first one at once.
		due := int64(float64(time.Since(start))/float64(perMsg)) + 1
		for ; issued < due; issued++ {
			f := flows[next%len(flows)]
			next++
			scheduled := start.Add(time.Duration(issued) * perMsg)
			seq := r.seq.Add(1)
			if !r.pool.submit(func() {
				if ctx.Err() != nil {
					return
				}
				lag := time.Since(scheduled)
				if r.counted(r.now()) {
					r.lag.record(lag)
				}
				f.send(seq)
			}) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// lossWait is how long a closed-loop flow waits for a message to come back
// before it counts it as stalled and sends the next one anyway.
const lossWait = 10 * time.Second

func (r *runner) closedLoop(ctx context.Context, flows []*flow) {
	var wg sync.WaitGroup
	for _, f := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			timer := time.NewTimer(lossWait)
			defer timer.Stop()
			for {
				timer.Reset(lossWait)
				select {
				case <-ctx.Done():
					return
				case <-f.tokens:
				case <-timer.C:
					r.errs.add("closed loop: no answer within 10s, sent the next anyway")
				}
				if ctx.Err() != nil {
					return
				}
				f.send(r.seq.Add(1))
			}
		}()
	}
	wg.Wait()
}

// padding is the filler that brings messages to the configured size.
func padding(n int) string { return strings.Repeat("x", max(0, n)) }

// newFlow makes flow id; closed loop gives it cfg.window tokens.
func (r *runner) newFlow(id int) *flow {
	f := &flow{id: id}
	if r.cfg.rate <= 0 {
		f.tokens = make(chan struct{}, r.cfg.window)
		for range r.cfg.window {
			f.tokens <- struct{}{}
		}
	}
	return f
}
