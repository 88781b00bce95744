package api

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a per-key token bucket (per client IP here). It is per node:
// behind a load balancer the effective limit is this times the node count,
// which is fine for its purpose of stopping identity farming by one client.
type limiter struct {
	perWindow int
	window    time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perWindow int, window time.Duration) *limiter {
	return &limiter{perWindow: perWindow, window: window, buckets: make(map[string]*bucket)}
}

// Allow takes one token from key's bucket.
func (l *limiter) Allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget idle keys now and then: a full bucket is the same as none.
	if now.After(l.sweepAt) {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > l.window {
				delete(l.buckets, k)
			}
		}
		l.sweepAt = now.Add(l.window)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.window/time.Duration(l.perWindow)), l.perWindow)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
