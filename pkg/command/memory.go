package command

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/retry"
)

// errNoID rejects a command that handlers could not de-duplicate.
var errNoID = errors.New("command: command has no ID")

// Memory is an in-process Sender and Consumer for the single-binary mode.
//
// Send appends to an unbounded queue and never waits for a consumer.
// Commands live only as long as the process, which in single-binary mode is
// also the lifetime of every consumer and every sender.
type Memory struct {
	mu    sync.Mutex
	queue []Command // next command first
	// ready is closed, and replaced, whenever the queue gains a command, so
	// that every waiting consumer wakes and re-checks.
	ready chan struct{}
	log   *slog.Logger
}

var (
	_ Sender   = (*Memory)(nil)
	_ Consumer = (*Memory)(nil)
)

// NewMemory returns an empty in-process command queue.
func NewMemory() *Memory {
	return &Memory{
		ready: make(chan struct{}),
		log:   slog.Default().With("component", "command"),
	}
}

// Send queues c. It fails only if ctx has already ended or c has no ID.
func (m *Memory) Send(ctx context.Context, c Command) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.ID == "" {
		return errNoID
	}
	m.mu.Lock()
	m.queue = append(m.queue, c)
	m.wakeLocked()
	m.mu.Unlock()
	return nil
}

// Consume hands the waiting commands to h, up to batchSize at a time, in
// send order, until ctx ends. A batch whose handler fails is retried with
// backoff until it succeeds; if ctx ends first, the batch goes back to the
// head of the queue for the next consumer.
func (m *Memory) Consume(ctx context.Context, h Handler) error {
	for {
		cs, ok := m.next(ctx)
		if !ok {
			return ctx.Err()
		}
		if !handle(ctx, m.log, h, cs) {
			m.putBack(cs)
			return ctx.Err()
		}
	}
}

// next removes and returns the head of the queue, up to batchSize commands,
// waiting for one if the queue is empty; ok is false if ctx ended first.
func (m *Memory) next(ctx context.Context) (cs []Command, ok bool) {
	for {
		m.mu.Lock()
		if len(m.queue) > 0 {
			n := min(len(m.queue), batchSize)
			cs = slices.Clone(m.queue[:n])
			clear(m.queue[:n])
			m.queue = m.queue[n:]
			if len(m.queue) == 0 {
				m.queue = nil // release the backing array of a past burst
			}
			m.mu.Unlock()
			return cs, true
		}
		ready := m.ready
		m.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, false
		}
	}
}

func (m *Memory) putBack(cs []Command) {
	m.mu.Lock()
	m.queue = append(cs, m.queue...)
	m.wakeLocked()
	m.mu.Unlock()
}

func (m *Memory) wakeLocked() {
	close(m.ready)
	m.ready = make(chan struct{})
}

// pending reports the number of queued commands (for tests).
func (m *Memory) pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue)
}

// handle runs h on cs until it succeeds, reporting false if ctx ended
// first. Retrying in place rather than moving on keeps send order: a later
// command may depend on this one (agent ready, then not ready).
func handle(ctx context.Context, log *slog.Logger, h Handler, cs []Command) bool {
	wait := retry.Backoff{Min: handlerRetryMin, Max: handlerRetryMax}
	for attempt := 1; ; attempt++ {
		err := h(ctx, cs)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d := wait.Next()
		log.WarnContext(ctx, "command handler failed; retrying the batch",
			"first_id", cs[0].ID, "commands", len(cs), "attempt", attempt, "retry_in", d, "err", err)
		if !retry.Sleep(ctx, d) {
			return false
		}
	}
}

// batchSize bounds one batch: large enough that a burst commits in few
// transactions, small enough that one transaction stays short.
const batchSize = 128

// Bounds of the wait between attempts at a failing command.
const (
	handlerRetryMin = 20 * time.Millisecond
	handlerRetryMax = 2 * time.Second
)
