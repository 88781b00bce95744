package broker

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
)

// Memory is an in-process Broker for the single-binary mode, where "every
// node" is this process.
//
// Publish appends to one queue per active Subscribe call and returns at once;
// each Subscribe call drains its own queue. The queues are unbounded so that
// a deliver func that breaks its contract and blocks stalls only its own
// subscriber, never the publisher or the other subscribers.
type Memory struct {
	// mu serialises fan-out, so that all subscribers see concurrent
	// publishers' messages in the same total order.
	mu   sync.Mutex
	subs map[*memorySub]struct{}
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an in-process Broker with no subscribers.
func NewMemory() *Memory {
	return &Memory{subs: make(map[*memorySub]struct{})}
}

// errInvalidData is returned for a Data that Redis would fail to encode, so
// that both modes reject the same messages.
var errInvalidData = errors.New("broker: message data is not valid JSON")

// PublishMany publishes msgs in order.
func (m *Memory) PublishMany(ctx context.Context, msgs []Message) error {
	for _, msg := range msgs {
		if err := m.Publish(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

// Publish queues msg for every active Subscribe call. It never waits for a
// subscriber.
func (m *Memory) Publish(ctx context.Context, msg Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if msg.Data != nil && !json.Valid(msg.Data) {
		return errInvalidData
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.subs {
		s.push(msg)
	}
	return nil
}

// Subscribe delivers every message published from now on, in publish order,
// until ctx ends; then it returns ctx.Err() and drops whatever is still
// queued for it.
func (m *Memory) Subscribe(ctx context.Context, deliver func(Message)) error {
	s := &memorySub{wake: make(chan struct{}, 1)}
	m.mu.Lock()
	m.subs[s] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.subs, s)
		m.mu.Unlock()
	}()

	var batch []Message
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		}
		batch = s.take(batch[:0])
		for i := range batch {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			deliver(batch[i])
			batch[i] = Message{} // let delivered payloads be collected
		}
		if cap(batch) > maxIdleBatch {
			batch = nil // don't pin the memory of a past burst
		}
	}
}

// maxIdleBatch is the largest buffer a subscriber keeps between bursts.
const maxIdleBatch = 4096

// subscribers reports the number of active Subscribe calls (for tests).
func (m *Memory) subscribers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs)
}

// memorySub is one Subscribe call's queue. The Subscribe goroutine is its
// only reader.
type memorySub struct {
	mu    sync.Mutex
	queue []Message
	// wake has room for one token: a pending token means "the queue may be
	// non-empty", which is all the reader needs to know.
	wake chan struct{}
}

func (s *memorySub) push(msg Message) {
	s.mu.Lock()
	s.queue = append(s.queue, msg)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take moves the queued messages into buf, swapping buffers so that neither
// side allocates in steady state.
func (s *memorySub) take(buf []Message) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.queue
	s.queue = buf
	return out
}
