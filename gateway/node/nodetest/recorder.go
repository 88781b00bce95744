package nodetest

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"time"

	"github.com/kefu-im/kefu/gateway/loadgen/eio"
)

// Event is one event a socket received.
type Event struct {
	Name string
	Arg  json.RawMessage
}

// Recorder is a socket that keeps every event it receives, in order, so
// that tests wait for what they expect instead of sleeping.
type Recorder struct {
	*eio.Client
	t interface {
		Helper()
		Fatalf(string, ...any)
	}

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced on every event
}

// Record connects a recording socket to namespace with query.
func (n *Node) Record(namespace string, query url.Values) *Recorder {
	n.t.Helper()
	r := &Recorder{t: n.t, changed: make(chan struct{})}
	r.Client = n.Socket(namespace, query, func(event string, arg json.RawMessage) {
		r.mu.Lock()
		r.events = append(r.events, Event{Name: event, Arg: append(json.RawMessage(nil), arg...)})
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	})
	return r
}

// Events returns what was received so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Len is how many events arrived so far (a mark for WaitFor's from).
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// WaitFor returns the first event named name, at or after index from, for
// which match (nil: any) is true, failing the test after timeout.
func (r *Recorder) WaitFor(from int, name string, match func(json.RawMessage) bool, timeout time.Duration) Event {
	r.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i := from; i < len(r.events); i++ {
			if e := r.events[i]; e.Name == name && (match == nil || match(e.Arg)) {
				r.mu.Unlock()
				return e
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-r.Done():
			r.t.Fatalf("socket ended waiting for %q: %v", name, r.Err())
		case <-deadline.C:
			r.t.Fatalf("no %q within %s; got %d events", name, timeout, r.Len())
		}
	}
}

// Ack sends event with arg and decodes the acknowledgement into out.
func (r *Recorder) Ack(event string, arg, out any) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := r.Call(ctx, event, arg)
	if err != nil {
		r.t.Fatalf("%s: %v", event, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			r.t.Fatalf("%s ack %s: %v", event, raw, err)
		}
	}
}
