package command

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/redistest"
)

// log records handler calls.
type callLog struct {
	mu      sync.Mutex
	ids     []string
	changed chan struct{}
}

func newCallLog() *callLog { return &callLog{changed: make(chan struct{}, 1)} }

func (l *callLog) add(id string) {
	l.mu.Lock()
	l.ids = append(l.ids, id)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func (l *callLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}

// await waits until cond holds for the calls so far, failing the test after
// timeout.
func (l *callLog) await(t *testing.T, timeout time.Duration, what string, cond func([]string) bool) []string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ids := l.get()
		if cond(ids) {
			return ids
		}
		select {
		case <-l.changed:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s; have %v", timeout, what, ids)
		}
	}
}

func atLeast(n int) func([]string) bool {
	return func(ids []string) bool { return len(ids) >= n }
}

func contains(id string) func([]string) bool {
	return func(ids []string) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
}

// each makes a batch handler of a handler of one command: a failure fails
// the batch from that command on (the earlier ones were handled).
func each(h func(context.Context, Command) error) Handler {
	return func(ctx context.Context, cs []Command) error {
		for _, c := range cs {
			if err := h(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
}

// consume runs c.Consume on h, one command at a time, until stop is called
// or the test ends; stop returns what Consume returned.
func consume(t *testing.T, c Consumer, h func(context.Context, Command) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Consume(ctx, each(h)) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				err = errors.New("Consume did not return after its context was cancelled")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); !errors.Is(err, context.Canceled) {
			t.Errorf("Consume returned %v, want context.Canceled", err)
		}
	})
	return stop
}

func cmd(i int) Command {
	return Command{ID: "c" + strconv.Itoa(i), Kind: AgentStatus, Orgi: "org", AgentID: "a1", Status: "ready", At: time.Unix(1700000000, 0).UTC()}
}

func ids(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, "c"+strconv.Itoa(i))
	}
	return out
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestMemoryConsumesInSendOrder(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	const n = 1000
	for i := range n / 2 { // some before the consumer starts
		if err := m.Send(ctx, cmd(i)); err != nil {
			t.Fatal(err)
		}
	}
	calls := newCallLog()
	consume(t, m, func(_ context.Context, c Command) error {
		calls.add(c.ID)
		return nil
	})
	for i := n / 2; i < n; i++ {
		if err := m.Send(ctx, cmd(i)); err != nil {
			t.Fatal(err)
		}
	}
	got := calls.await(t, 5*time.Second, "all commands", atLeast(n))
	if !equal(got, ids(0, n)) {
		t.Fatalf("handled out of order or more than once: %v", got)
	}
	if p := m.pending(); p != 0 {
		t.Fatalf("%d commands left", p)
	}
}

func TestMemoryRetriesFailedCommandBeforeMovingOn(t *testing.T) {
	m := NewMemory()
	m.log = redistest.Logger(t)
	for i := range 5 {
		if err := m.Send(context.Background(), cmd(i)); err != nil {
			t.Fatal(err)
		}
	}
	calls := newCallLog()
	failures := 3
	consume(t, m, func(_ context.Context, c Command) error {
		calls.add(c.ID)
		if c.ID == "c2" && failures > 0 {
			failures--
			return errors.New("store unavailable")
		}
		return nil
	})
	got := calls.await(t, 10*time.Second, "all commands", contains("c4"))
	// The batch (all five, sent before consuming) is retried whole.
	want := []string{"c0", "c1", "c2", "c0", "c1", "c2", "c0", "c1", "c2", "c0", "c1", "c2", "c3", "c4"}
	if !equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
}

func TestMemoryUnfinishedCommandGoesToNextConsumer(t *testing.T) {
	m := NewMemory()
	m.log = redistest.Logger(t)
	for i := range 5 {
		if err := m.Send(context.Background(), cmd(i)); err != nil {
			t.Fatal(err)
		}
	}
	first := newCallLog()
	stopFirst := consume(t, m, func(ctx context.Context, c Command) error {
		first.add(c.ID)
		if c.ID == "c2" {
			<-ctx.Done() // dies while handling it
			return ctx.Err()
		}
		return nil
	})
	first.await(t, 5*time.Second, "c2 to be in progress", contains("c2"))
	if err := stopFirst(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume returned %v", err)
	}

	second := newCallLog()
	consume(t, m, func(_ context.Context, c Command) error {
		second.add(c.ID)
		return nil
	})
	// The unfinished batch goes back whole.
	got := second.await(t, 5*time.Second, "the batch", atLeast(5))
	if !equal(got, ids(0, 5)) {
		t.Fatalf("second consumer handled %v, want %v", got, ids(0, 5))
	}
}

func TestMemoryHandsWaitingCommandsOverInBatches(t *testing.T) {
	m := NewMemory()
	for i := range batchSize + 3 {
		if err := m.Send(context.Background(), cmd(i)); err != nil {
			t.Fatal(err)
		}
	}
	sizes := make(chan int, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = m.Consume(ctx, func(_ context.Context, cs []Command) error {
			sizes <- len(cs)
			return nil
		})
	}()
	if a, b := <-sizes, <-sizes; a != batchSize || b != 3 {
		t.Fatalf("batches of %d and %d, want %d and 3", a, b, batchSize)
	}
}

func TestMemorySendRejects(t *testing.T) {
	m := NewMemory()
	if err := m.Send(context.Background(), Command{Kind: VisitorLeft}); err == nil {
		t.Error("Send accepted a command without ID")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Send(ctx, cmd(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with ended context = %v", err)
	}
	if p := m.pending(); p != 0 {
		t.Errorf("%d commands queued", p)
	}
}
