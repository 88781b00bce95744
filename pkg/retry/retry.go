// Package retry paces repeated attempts at something that fails for a while
// (a lost Redis connection, a failing command handler).
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields exponentially growing, jittered waits between Min and Max.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// Next returns the wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	if b.cur == 0 {
		b.cur = b.Min
	} else {
		b.cur = min(2*b.cur, b.Max)
	}
	// Jitter keeps a fleet of nodes from retrying in lockstep.
	return b.cur/2 + rand.N(b.cur/2+1)
}

// Reset starts again from Min, after a success.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits for d or until ctx ends, reporting whether the full wait
// elapsed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
