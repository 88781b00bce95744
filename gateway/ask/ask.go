// Package ask lets a gateway send the routing service a command and wait for
// its answer, which comes back over the broker (#control / reply) to
// whichever node is waiting.
package ask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/store"
)

// Replies pairs the routing service's answers with the requests waiting for
// them on this node. Every node sees every answer (they travel over the
// broker); those nobody here waits for are dropped.
type Replies struct {
	mu      sync.Mutex
	waiting map[string]chan []byte
}

// NewReplies returns an empty Replies.
func NewReplies() *Replies { return &Replies{waiting: make(map[string]chan []byte)} }

// Expect registers id before the command naming it is sent; the answer
// arrives on the channel. cancel must be called when done waiting.
func (r *Replies) Expect(id string) (answer <-chan []byte, cancel func()) {
	ch := make(chan []byte, 1)
	r.mu.Lock()
	r.waiting[id] = ch
	r.mu.Unlock()
	return ch, func() {
		r.mu.Lock()
		delete(r.waiting, id)
		r.mu.Unlock()
	}
}

// Deliver hands an answer to its waiter, if it is on this node. A repeated
// answer (a command handled twice) is dropped.
func (r *Replies) Deliver(id string, data []byte) {
	r.mu.Lock()
	ch := r.waiting[id]
	delete(r.waiting, id)
	r.mu.Unlock()
	if ch != nil {
		ch <- data
	}
}

// ErrLate means the command is queued, durably, and will be carried out,
// but its answer did not come in time: the parties learn the outcome from
// the events it causes.
var ErrLate = errors.New("ask: no answer in time; the command stays queued")

// Asker sends commands that expect an answer.
type Asker struct {
	Commands command.Sender
	Replies  *Replies
}

// Ask sends c with a fresh ReplyTo and decodes the answer into out, waiting
// at most wait. A command that could not be queued is an error of its own.
func (a Asker) Ask(ctx context.Context, c command.Command, wait time.Duration, out any) error {
	c.ReplyTo = store.NewID()
	answer, cancel := a.Replies.Expect(c.ReplyTo)
	defer cancel()
	if err := a.Commands.Send(ctx, c); err != nil {
		return fmt.Errorf("send %s: %w", c.Kind, err)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case data := <-answer:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("answer to %s: %w", c.Kind, err)
		}
		return nil
	case <-timer.C:
		return ErrLate
	case <-ctx.Done():
		return ctx.Err()
	}
}
