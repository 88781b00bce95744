package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Locked refuses a sign-in until Until; it unwraps to a protocol error
// with code locked, whose message says when to try again.
type Locked struct {
	Until time.Time
	err   *protocol.Error
}

func (l *Locked) Error() string { return l.err.Error() }
func (l *Locked) Unwrap() error { return l.err }

// RetryAfter is the whole seconds from now until the lock ends (at least 1),
// for the Retry-After header.
func (l *Locked) RetryAfter(now time.Time) int {
	return max(1, int(math.Ceil(l.Until.Sub(now).Seconds())))
}

func lockedError(l throttle.Lock) error {
	until := l.Until.UTC()
	whose := "from this address"
	if l.Account {
		whose = "for this account"
	}
	return &Locked{Until: until, err: protocol.Errorf(protocol.CodeLocked,
		"too many failed sign-ins %s: try again after %s UTC", whose, until.Format("2006-01-02 15:04"))}
}

// AsLocked returns the lock that refused a sign-in, if err is one.
func AsLocked(err error) (*Locked, bool) {
	var l *Locked
	ok := errors.As(err, &l)
	return l, ok
}

// maxUserAgent is how much of a browser's User-Agent a login keeps (the
// column's size).
const maxUserAgent = 255

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// LoginID names a login to its user and admins: the start of its token's
// hash, enough to tell logins apart, too little to be the stored hash.
func LoginID(tokenHash string) string { return tokenHash[:min(16, len(tokenHash))] }

// Logins are the agent's unexpired logins, newest first.
func (s *Service) Logins(ctx context.Context, agentID string) ([]store.Token, error) {
	ts, err := s.store.AgentLogins(ctx, agentID, s.now())
	if err != nil {
		return nil, fmt.Errorf("logins: %w", err)
	}
	return ts, nil
}

// Revoke ends the agent's login named id (LoginID) and returns its token
// hash, whose sockets the caller then ends.
func (s *Service) Revoke(ctx context.Context, agentID, id string) (string, error) {
	ts, err := s.Logins(ctx, agentID)
	if err != nil {
		return "", err
	}
	for _, t := range ts {
		if LoginID(t.Hash) == id {
			if err := s.store.DeleteToken(ctx, t.Hash); err != nil {
				return "", fmt.Errorf("revoke: %w", err)
			}
			return t.Hash, nil
		}
	}
	return "", protocol.Errorf(protocol.CodeNotFound, "login not found")
}

// Policy is the sign-in throttling in force.
func (s *Service) Policy() throttle.Policy { return s.throttle.Policy() }

// AccountStatus says how the username's sign-ins stand: its recent
// failures and whether it is locked out.
func (s *Service) AccountStatus(ctx context.Context, username string) (throttle.Status, error) {
	st, err := s.throttle.Account(ctx, username)
	if err != nil {
		return throttle.Status{}, fmt.Errorf("account status: %w", err)
	}
	return st, nil
}

// Unlock lifts the username's lockout and forgets its failures. Its
// address's counter stays: an admin vouches for an account, not a network.
func (s *Service) Unlock(ctx context.Context, username string) error {
	if err := s.throttle.Unlock(ctx, username); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}
