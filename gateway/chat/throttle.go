package chat

import (
	"context"
	"sync"
	"time"
)

// throttle runs at most one action per key per interval; an action submitted
// inside the interval replaces any pending one and runs when it ends (latest
// wins), so the last draft always arrives.
type throttle struct {
	interval time.Duration
	ctx      context.Context
	cancel   context.CancelFunc

	mu   sync.Mutex
	keys map[string]*throttled
}

type throttled struct {
	timer   *time.Timer
	pending func(context.Context)
}

func newThrottle(interval time.Duration) *throttle {
	ctx, cancel := context.WithCancel(context.Background())
	return &throttle{interval: interval, ctx: ctx, cancel: cancel, keys: make(map[string]*throttled)}
}

// Submit runs fn now if key is quiet, otherwise when its interval ends.
func (t *throttle) Submit(key string, fn func(context.Context)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		return
	}
	if k, busy := t.keys[key]; busy {
		k.pending = fn
		return
	}
	k := &throttled{}
	t.keys[key] = k
	k.timer = time.AfterFunc(t.interval, func() { t.expire(key, k) })
	go fn(t.ctx)
}

// expire ends key's interval: a pending action runs and opens a new one;
// otherwise the key is forgotten, so idle sessions cost nothing.
func (t *throttle) expire(key string, k *throttled) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		return
	}
	fn := k.pending
	if fn == nil {
		delete(t.keys, key)
		return
	}
	k.pending = nil
	k.timer = time.AfterFunc(t.interval, func() { t.expire(key, k) })
	go fn(t.ctx)
}

// Close drops pending actions and stops the timers.
func (t *throttle) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cancel()
	for key, k := range t.keys {
		k.timer.Stop()
		delete(t.keys, key)
	}
}
