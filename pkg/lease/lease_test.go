package lease

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/redistest"
)

// tracker records which holders lead, failing the test if two overlap.
type tracker struct {
	t       *testing.T
	mu      sync.Mutex
	leading map[string]bool
	terms   []string
	tokens  []int64
	changed chan struct{}
}

func newTracker(t *testing.T) *tracker {
	return &tracker{t: t, leading: map[string]bool{}, changed: make(chan struct{}, 16)}
}

func (tr *tracker) lead(name string) Lead {
	return func(ctx context.Context, token int64) error {
		tr.mu.Lock()
		for other, on := range tr.leading {
			if on {
				tr.t.Errorf("%s leads while %s still does", name, other)
			}
		}
		tr.leading[name] = true
		tr.terms = append(tr.terms, name)
		tr.tokens = append(tr.tokens, token)
		tr.mu.Unlock()
		tr.changed <- struct{}{}
		<-ctx.Done()
		tr.mu.Lock()
		tr.leading[name] = false
		tr.mu.Unlock()
		return ctx.Err()
	}
}

func (tr *tracker) awaitTerms(n int, within time.Duration) []string {
	tr.t.Helper()
	deadline := time.After(within)
	for {
		tr.mu.Lock()
		got := append([]string(nil), tr.terms...)
		tr.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-tr.changed:
		case <-deadline:
			tr.t.Fatalf("only %d terms after %s: %v", len(got), within, got)
		}
	}
}

func start(t *testing.T, key, name string, tr *tracker) context.CancelFunc {
	c := redistest.Client(t, redistest.URL(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = New(c, Options{Key: key, Owner: name, TTL: 600 * time.Millisecond, Logger: redistest.Logger(t)}).Run(ctx, tr.lead(name))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() { cancel(); <-done }
}

func TestOneLeaderAndCleanHandOver(t *testing.T) {
	key := fmt.Sprintf("kefu:test:lease:%d", time.Now().UnixNano())
	tr := newTracker(t)
	stops := map[string]context.CancelFunc{}
	for _, n := range []string{"a", "b", "c"} {
		stops[n] = start(t, key, n, tr)
	}
	first := tr.awaitTerms(1, 5*time.Second)[0]
	stops[first]()
	begun := time.Now()
	second := tr.awaitTerms(2, 5*time.Second)[1]
	if second == first {
		t.Fatalf("%s led again after stopping", first)
	}
	// A clean stop releases the lease: no need to wait for the TTL.
	t.Logf("hand-over after a clean stop took %s", time.Since(begun))
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.tokens[1] <= tr.tokens[0] {
		t.Fatalf("fencing tokens did not grow: %v", tr.tokens)
	}
}

func TestHolderThatLosesTheKeyStepsDown(t *testing.T) {
	key := fmt.Sprintf("kefu:test:lease:%d", time.Now().UnixNano())
	tr := newTracker(t)
	start(t, key, "a", tr)
	tr.awaitTerms(1, 5*time.Second)
	// What a holder paused past its TTL finds: someone else holds the key.
	c := redistest.Client(t, redistest.URL(t))
	if err := c.Set(context.Background(), key, "intruder", time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr.mu.Lock()
		on := tr.leading["a"]
		tr.mu.Unlock()
		if !on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("holder kept leading after losing the key")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Once the intruder's claim expires, a leads again.
	tr.awaitTerms(2, 5*time.Second)
}
