package broker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// maxQueued bounds the publications waiting for the writer; Publish blocks
// (or gives up with its context) beyond it, so a Redis that stops answering
// holds back publishers rather than growing memory.
const maxQueued = 4096

// errClosed is returned by Publish after Close.
var errClosed = errors.New("broker closed")

// publisher sends the publications of concurrent Publish calls together:
// while one pipeline is in flight, the next calls queue, and the writer sends
// all of them in the next pipeline. Under load that is one round trip (one
// write and one read on each side) for many messages instead of one each,
// which is what node-redis does by itself for a socket.io node.
//
// Order: a single writer sends one pipeline at a time and waits for its
// replies before the next, and a Publish returns only after its pipeline's
// replies (or without having been sent at all). So a publisher's next
// message always goes in a later pipeline than its previous one.
//
// The writer goroutine runs only while there is something to send: it is
// started by the Publish that finds none running and ends when the queue is
// empty. Close waits for it.
type publisher struct {
	client redis.UniversalClient
	// slots holds one token per queued or in-flight publication.
	slots chan struct{}

	mu      sync.Mutex
	queue   []*publication
	running bool
	closed  bool
	writer  sync.WaitGroup
}

// publication is one Publish or PublishMany call's messages.
type publication struct {
	channels []string
	payloads [][]byte
	state    atomic.Int32 // queued, then sent or abandoned
	done     chan error   // the pipeline's result for these messages; buffered
}

const (
	queued int32 = iota
	sent
	abandoned // its caller gave up before the writer took it; never sent
)

// publish queues p and waits for its result or for ctx to end. If ctx ends
// before the writer has taken p, p is never sent.
func (w *publisher) publish(ctx context.Context, p *publication) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.slots
		return errClosed
	}
	w.queue = append(w.queue, p)
	if !w.running {
		w.running = true
		w.writer.Add(1)
		go w.write()
	}
	w.mu.Unlock()

	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		if p.state.CompareAndSwap(queued, abandoned) {
			<-w.slots
			return ctx.Err()
		}
		// Already in a pipeline: Redis may have it. The writer still
		// delivers the result into the buffered channel and frees the slot.
		return ctx.Err()
	}
}

// write sends the queue in pipelines until it is empty.
func (w *publisher) write() {
	defer w.writer.Done()
	var batch []*publication
	for {
		batch = w.take(batch[:0])
		if batch == nil {
			return
		}
		w.send(batch)
		clear(batch)
	}
}

// take moves the queued publications that are still wanted to batch, or
// returns nil (and marks the writer stopped) when there are none.
func (w *publisher) take(batch []*publication) []*publication {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(batch) == 0 {
		if len(w.queue) == 0 {
			w.running = false
			return nil
		}
		for _, p := range w.queue {
			if p.state.CompareAndSwap(queued, sent) {
				batch = append(batch, p)
			}
		}
		clear(w.queue)
		w.queue = w.queue[:0]
	}
	return batch
}

// send publishes batch in one pipeline and hands each publication the first
// error among its own commands.
func (w *publisher) send(batch []*publication) {
	// The callers' contexts cannot bound a pipeline that carries other
	// callers' messages: the client's own timeouts do.
	ctx := context.Background()
	pipe := w.client.Pipeline()
	for _, p := range batch {
		for i, payload := range p.payloads {
			pipe.Publish(ctx, p.channels[i], payload)
		}
	}
	cmds, _ := pipe.Exec(ctx)
	for _, p := range batch {
		var err error
		for range p.payloads {
			if e := cmds[0].Err(); e != nil && err == nil {
				err = e
			}
			cmds = cmds[1:]
		}
		p.done <- err
		<-w.slots
	}
}

// close makes later publications fail and waits for the writer to finish
// the queued ones.
func (w *publisher) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.writer.Wait()
}
