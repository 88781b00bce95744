// Package throttle slows down password guessing: it counts failed sign-ins
// per account and per client address, and locks a key out for a while once
// its failures within a window reach a limit. The counters live in the
// database, so every gateway of a cluster (or the single binary) sees the
// same ones.
package throttle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

// Policy says how many failures lock a key out, and for how long.
type Policy struct {
	// AccountFailures within Window lock the account (whatever the address).
	AccountFailures int
	// AddressFailures within Window lock the client address (whatever the
	// account): one address trying many usernames.
	AddressFailures int
	Window          time.Duration
	Lockout         time.Duration
}

// DefaultPolicy is 5 failures of an account or 20 of an address within 15
// minutes, locked for 15 minutes.
func DefaultPolicy() Policy {
	return Policy{AccountFailures: 5, AddressFailures: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
}

// withDefaults fills the zero fields of p from DefaultPolicy.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.AccountFailures <= 0 {
		p.AccountFailures = d.AccountFailures
	}
	if p.AddressFailures <= 0 {
		p.AddressFailures = d.AddressFailures
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	if p.Lockout <= 0 {
		p.Lockout = d.Lockout
	}
	return p
}

// Store keeps the counters (pkg/store).
type Store interface {
	LoginThrottles(ctx context.Context, keys ...string) ([]store.LoginThrottle, error)
	ChangeLoginThrottle(ctx context.Context, key string, change func(*store.LoginThrottle)) error
	DeleteLoginThrottle(ctx context.Context, key string) error
	DeleteStaleLoginThrottles(ctx context.Context, idleSince, now time.Time) (int64, error)
}

// Throttle applies a Policy.
type Throttle struct {
	store  Store
	policy Policy
	now    func() time.Time
}

// New returns a Throttle; zero fields of p take DefaultPolicy's values, and
// a nil now is the wall clock.
func New(st Store, p Policy, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{store: st, policy: p.withDefaults(), now: now}
}

// Policy is the policy in force.
func (t *Throttle) Policy() Policy { return t.policy }

// AccountKey and AddressKey name the counters; usernames compare without
// case, as logins do. A name longer than any username (64 characters) is
// cut, so that the key fits its column whatever a client sends.
func AccountKey(username string) string {
	name := []rune(strings.ToLower(username))
	return "user:" + string(name[:min(len(name), maxUsername)])
}

const maxUsername = 64

// AddressKey is the counter of a client address.
func AddressKey(ip string) string { return "ip:" + ip }

// Lock says until when an attempt is refused (zero: it is not).
type Lock struct {
	Until time.Time
	// Account is set when the account's own counter locked it (rather than
	// only its address's).
	Account bool
}

// Locked reports whether l refuses attempts.
func (l Lock) Locked() bool { return !l.Until.IsZero() }

// Check returns the lock that refuses an attempt for username from ip now.
func (t *Throttle) Check(ctx context.Context, username, ip string) (Lock, error) {
	rows, err := t.store.LoginThrottles(ctx, t.keys(username, ip)...)
	if err != nil {
		return Lock{}, fmt.Errorf("throttle: %w", err)
	}
	now := t.now()
	var l Lock
	for _, r := range rows {
		until := t.policy.status(r, now).LockedUntil
		if until.After(l.Until) {
			l.Until = until
		}
		if !until.IsZero() && r.Key == AccountKey(username) {
			l.Account = true
		}
	}
	return l, nil
}

// Fail counts a failed attempt and returns the lock it leaves (zero: none
// yet) and whether this failure started the account's lock.
func (t *Throttle) Fail(ctx context.Context, username, ip string) (l Lock, lockedAccount bool, err error) {
	now := t.now()
	for _, k := range t.keys(username, ip) {
		limit := t.policy.AddressFailures
		if k == AccountKey(username) {
			limit = t.policy.AccountFailures
		}
		var until time.Time
		var started bool
		err := t.store.ChangeLoginThrottle(ctx, k, func(r *store.LoginThrottle) {
			until, started = t.policy.count(r, now, limit)
		})
		if err != nil {
			return Lock{}, false, fmt.Errorf("throttle: %w", err)
		}
		if until.After(l.Until) {
			l.Until = until
		}
		if !until.IsZero() && k == AccountKey(username) {
			l.Account = true
			lockedAccount = started
		}
	}
	return l, lockedAccount, nil
}

// count adds a failure at now to r, a key with the given limit, and
// returns until when the key is locked (zero: it is not) and whether this
// failure locked it. A failure after the window or a finished lock starts
// a new window.
func (p Policy) count(r *store.LoginThrottle, now time.Time, limit int) (until time.Time, started bool) {
	if r.LockedUntil != nil && now.Before(*r.LockedUntil) {
		// Another gateway locked it since this attempt was checked.
		return *r.LockedUntil, false
	}
	if r.Failures == 0 || r.LockedUntil != nil || now.Sub(r.FirstAt) >= p.Window {
		r.Failures, r.FirstAt, r.LockedUntil = 0, now, nil
	}
	r.Failures++
	if r.Failures < limit {
		return time.Time{}, false
	}
	until = now.Add(p.Lockout)
	r.LockedUntil = &until
	return until, true
}

// Succeed clears the account's failures after a successful sign-in. The
// address keeps its count: one valid account must not let an address guess
// others' passwords without end. Counters idle for longer than the window
// are dropped on the way, so the table holds only live ones.
func (t *Throttle) Succeed(ctx context.Context, username string) error {
	if err := t.store.DeleteLoginThrottle(ctx, AccountKey(username)); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	now := t.now()
	if _, err := t.store.DeleteStaleLoginThrottles(ctx, now.Add(-t.policy.Window), now); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// Status is how a key stands now: its failures in the current window and,
// while it is locked, until when (zero: not locked).
type Status struct {
	Failures    int
	LockedUntil time.Time
}

// Account returns how the account's sign-ins stand.
func (t *Throttle) Account(ctx context.Context, username string) (Status, error) {
	rows, err := t.store.LoginThrottles(ctx, AccountKey(username))
	if err != nil {
		return Status{}, fmt.Errorf("throttle: %w", err)
	}
	if len(rows) == 0 {
		return Status{}, nil
	}
	return t.policy.status(rows[0], t.now()), nil
}

// status is r as it counts at now: a finished lock or a passed window
// counts nothing any more.
func (p Policy) status(r store.LoginThrottle, now time.Time) Status {
	switch {
	case r.LockedUntil != nil && now.Before(*r.LockedUntil):
		return Status{Failures: r.Failures, LockedUntil: *r.LockedUntil}
	case r.LockedUntil != nil || now.Sub(r.FirstAt) >= p.Window:
		return Status{}
	}
	return Status{Failures: r.Failures}
}

// Unlock clears the account's failures and lock (an admin's decision).
func (t *Throttle) Unlock(ctx context.Context, username string) error {
	if err := t.store.DeleteLoginThrottle(ctx, AccountKey(username)); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// keys are the counters an attempt touches; an unknown address (empty)
// has none.
func (t *Throttle) keys(username, ip string) []string {
	if ip == "" {
		return []string{AccountKey(username)}
	}
	return []string{AccountKey(username), AddressKey(ip)}
}
