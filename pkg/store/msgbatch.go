package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxAppendBatch bounds the messages of one transaction.
	maxAppendBatch = 64
	// appendBatchTimeout bounds one batch's transaction: the callers'
	// contexts cannot, since it carries several callers' messages.
	appendBatchTimeout = time.Minute
)

// appender is group commit for AppendMessage: while one transaction is in
// flight, the messages of concurrent calls queue, and the next transaction
// stores all of them. Under load that is one BEGIN, one INSERT and one
// COMMIT (one log flush) for many messages, plus one seq statement per
// session, instead of all of them for each message.
//
// A caller returns only once its row is committed (or with an error), so
// a sender's next message is in a later transaction than its previous one
// and gets a higher seq. If a batch fails, its messages are stored again
// one per transaction: whatever made the batch fail (a clientid another
// process stored meanwhile, a deleted session) then fails only its own.
//
// The writer goroutine runs only while there is something queued: started
// by the call that finds none running, it ends when the queue is empty.
// Store.Close waits for it.
type appender struct {
	mu      sync.Mutex
	queue   []*pendingAppend
	running bool
	writer  sync.WaitGroup
}

type pendingAppend struct {
	msg   Message
	state atomic.Int32 // appendQueued, then appendTaken or appendAbandoned
	done  chan appendResult
}

type appendResult struct {
	stored Message
	err    error
}

const (
	appendQueued int32 = iota
	appendTaken
	appendAbandoned // the caller gave up before the writer took it
)

// insertFunc stores messages in one transaction, returning them as stored
// in the same order.
type insertFunc func(ctx context.Context, msgs []Message) ([]Message, error)

// append queues msg and waits for it to be stored by insert, or for ctx to
// end. If ctx ends before the writer took msg, it is never stored; after
// that, it may be.
func (a *appender) append(ctx context.Context, msg Message, insert insertFunc) (Message, error) {
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}
	p := &pendingAppend{msg: msg, done: make(chan appendResult, 1)}
	a.mu.Lock()
	a.queue = append(a.queue, p)
	if !a.running {
		a.running = true
		a.writer.Add(1)
		go a.write(insert)
	}
	a.mu.Unlock()
	select {
	case r := <-p.done:
		return r.stored, r.err
	case <-ctx.Done():
		p.state.CompareAndSwap(appendQueued, appendAbandoned)
		return Message{}, ctx.Err()
	}
}

func (a *appender) write(insert insertFunc) {
	defer a.writer.Done()
	for {
		batch := a.take()
		if batch == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), appendBatchTimeout)
		a.store(ctx, batch, insert)
		cancel()
	}
}

// take removes up to maxAppendBatch wanted messages from the queue, or
// returns nil (and marks the writer stopped) when there are none.
func (a *appender) take() []*pendingAppend {
	a.mu.Lock()
	defer a.mu.Unlock()
	var batch []*pendingAppend
	for len(batch) == 0 {
		if len(a.queue) == 0 {
			a.running = false
			return nil
		}
		n := 0
		for _, p := range a.queue {
			n++
			if p.state.CompareAndSwap(appendQueued, appendTaken) {
				batch = append(batch, p)
				if len(batch) == maxAppendBatch {
					break
				}
			}
		}
		rest := copy(a.queue, a.queue[n:])
		clear(a.queue[rest:])
		a.queue = a.queue[:rest]
	}
	return batch
}

func (a *appender) store(ctx context.Context, batch []*pendingAppend, insert insertFunc) {
	msgs := make([]Message, len(batch))
	for i, p := range batch {
		msgs[i] = p.msg
	}
	rows, err := insert(ctx, msgs)
	if err == nil {
		for i, p := range batch {
			p.done <- appendResult{stored: rows[i]}
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- appendResult{err: err}
		return
	}
	for _, p := range batch {
		rows, err := insert(ctx, []Message{p.msg})
		if err != nil {
			p.done <- appendResult{err: err}
			continue
		}
		p.done <- appendResult{stored: rows[0]}
	}
}

// wait returns once the writer, if running, has finished.
func (a *appender) wait() { a.writer.Wait() }
