package api

import "sync"

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
