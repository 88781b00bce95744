// Package lease makes one process at a time the active holder of a named
// lease kept in Redis, with the others on standby: the routing service runs
// several replicas and only the holder acts.
//
// Guarantees: while Redis works, at most one holder's lead function runs
// past the moment it could know it lost the lease (the lease is renewed
// every TTL/3 and given up as soon as a renewal is refused or has not
// succeeded for a TTL); a holder that stops renewing (crashed, paused) is
// replaced within about TTL plus one retry interval; a holder that stops
// cleanly hands over at once. Each term gets a fencing token, larger than
// every earlier one, for writes that must be refused from a stale holder.
package lease

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/retry"
)

// Options configure a Lease.
type Options struct {
	Key    string        // the lease's Redis key
	Owner  string        // unique per process, e.g. node id + pid
	TTL    time.Duration // default 3s
	Logger *slog.Logger
}

// Lease competes for one named lease.
type Lease struct {
	rdb  redis.UniversalClient
	opts Options
}

// New returns a Lease; nothing happens until Run.
func New(rdb redis.UniversalClient, opts Options) *Lease {
	if opts.TTL <= 0 {
		opts.TTL = 3 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Lease{rdb: rdb, opts: opts}
}

// Lead is what the holder runs: until ctx ends (lease lost or Run's context
// ended). token is the term's fencing token.
type Lead func(ctx context.Context, token int64) error

var (
	renewScript   = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`)
	releaseScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`)
)

// Run competes for the lease until ctx ends, running lead during each term
// it holds it. An error from lead ends the term (the lease is released so a
// standby can take over) and Run competes again.
func (l *Lease) Run(ctx context.Context, lead Lead) error {
	wait := retry.Backoff{Min: l.opts.TTL / 6, Max: l.opts.TTL / 3}
	for ctx.Err() == nil {
		ok, err := l.rdb.SetNX(ctx, l.opts.Key, l.opts.Owner, l.opts.TTL).Result()
		if err != nil || !ok {
			if err != nil && ctx.Err() == nil {
				l.opts.Logger.Warn("lease: cannot compete", "key", l.opts.Key, "err", err)
			}
			retry.Sleep(ctx, wait.Next())
			continue
		}
		wait.Reset()
		l.term(ctx, lead)
		// A term that ended by failure or loss leaves others a chance first.
		retry.Sleep(ctx, l.opts.TTL/3)
	}
	return nil
}

// term holds the lease: runs lead, renews, and gives up on loss.
func (l *Lease) term(ctx context.Context, lead Lead) {
	token, err := l.rdb.Incr(ctx, l.opts.Key+":fence").Result()
	if err != nil {
		l.release()
		return
	}
	l.opts.Logger.Info("lease: acquired, leading", "key", l.opts.Key, "owner", l.opts.Owner, "token", token)
	termCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- lead(termCtx, token) }()
	lost, leadErr, returned := l.hold(termCtx, done)
	cancel()
	if !returned {
		leadErr = <-done
	}
	if leadErr != nil && !errors.Is(leadErr, context.Canceled) {
		l.opts.Logger.Error("lease: leader failed", "key", l.opts.Key, "err", leadErr)
	}
	if !lost {
		l.release()
	}
	l.opts.Logger.Info("lease: no longer leading", "key", l.opts.Key, "owner", l.opts.Owner, "lost", lost)
}

// hold renews the lease every TTL/3 until ctx ends, lead returns, or the
// lease is lost: refused, or not renewed for a whole TTL (Redis away: by
// then another process may hold it).
func (l *Lease) hold(ctx context.Context, done <-chan error) (lost bool, leadErr error, returned bool) {
	t := time.NewTicker(l.opts.TTL / 3)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return false, nil, false
		case err := <-done:
			return false, err, true
		case <-t.C:
			n, err := renewScript.Run(ctx, l.rdb, []string{l.opts.Key}, l.opts.Owner, l.opts.TTL.Milliseconds()).Int()
			switch {
			case err == nil && n == 1:
				renewed = time.Now()
			case err == nil:
				l.opts.Logger.Warn("lease: lost to another holder", "key", l.opts.Key)
				return true, nil, false
			case time.Since(renewed) >= l.opts.TTL:
				l.opts.Logger.Warn("lease: not renewed for a TTL, stepping down", "key", l.opts.Key, "err", err)
				return true, nil, false
			}
		}
	}
}

// release gives the lease up if still ours, so a standby need not wait for
// it to expire.
func (l *Lease) release() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := releaseScript.Run(ctx, l.rdb, []string{l.opts.Key}, l.opts.Owner).Err(); err != nil {
		l.opts.Logger.Warn("lease: release failed; it will expire", "key", l.opts.Key, "err", err)
	}
}
