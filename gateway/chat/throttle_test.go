package chat

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestThrottleLatestWins(t *testing.T) {
	th := newThrottle(50 * time.Millisecond)
	defer th.Close()
	var mu sync.Mutex
	var got []int
	done := make(chan struct{}, 10)
	run := func(i int) func(context.Context) {
		return func(context.Context) {
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
			done <- struct{}{}
		}
	}
	for i := 1; i <= 5; i++ {
		th.Submit("k", run(i))
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("throttled action never ran")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != 1 || got[1] != 5 {
		t.Fatalf("ran %v; want [1 5]: the first at once, then only the latest", got)
	}
}

func TestThrottleKeysIndependentAndForgotten(t *testing.T) {
	th := newThrottle(20 * time.Millisecond)
	defer th.Close()
	done := make(chan string, 4)
	th.Submit("a", func(context.Context) { done <- "a" })
	th.Submit("b", func(context.Context) { done <- "b" })
	seen := map[string]bool{}
	for range 2 {
		select {
		case k := <-done:
			seen[k] = true
		case <-time.After(5 * time.Second):
			t.Fatal("timeout")
		}
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("keys blocked each other: %v", seen)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		th.mu.Lock()
		n := len(th.keys)
		th.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle keys never forgotten", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
