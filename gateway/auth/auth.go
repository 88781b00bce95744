// Package auth logs agents in and authenticates their bearer tokens for the
// REST API and the /im/agent namespace alike.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what auth reads and writes.
type Store interface {
	GetAgent(ctx context.Context, id string) (store.Agent, error)
	GetAgentByUsername(ctx context.Context, username string) (store.Agent, error)
	CreateToken(ctx context.Context, t store.Token) error
	GetToken(ctx context.Context, hash string) (store.Token, error)
	ExtendToken(ctx context.Context, hash string, expires time.Time) error
	DeleteToken(ctx context.Context, hash string) error
	AgentLogins(ctx context.Context, agentID string, now time.Time) ([]store.Token, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	throttle.Store
}

// Principal is an authenticated agent.
type Principal struct {
	Agent     store.Agent
	TokenHash string
}

// Has reports whether the principal holds role.
func (p Principal) Has(role string) bool {
	return slices.Contains(strings.Split(p.Agent.Roles, ","), role)
}

// Roles lists the principal's roles.
func (p Principal) Roles() []string {
	if p.Agent.Roles == "" {
		return []string{}
	}
	return strings.Split(p.Agent.Roles, ",")
}

// Service issues and checks tokens.
type Service struct {
	store    Store
	ttl      time.Duration
	now      func() time.Time
	throttle *throttle.Throttle
	// dummyHash makes a login for an unknown user cost as much as one with
	// a wrong password, so timing does not reveal which usernames exist.
	dummyHash string
}

// New returns a Service whose tokens live ttl since their last use and
// whose sign-ins are throttled by policy (zero fields: the defaults).
func New(st Store, ttl time.Duration, policy throttle.Policy) (*Service, error) {
	h, err := identity.HashPassword("timing-equaliser")
	if err != nil {
		return nil, err
	}
	s := &Service{store: st, ttl: ttl, now: func() time.Time { return time.Now().UTC() }, dummyHash: h}
	// The clock is read through s.now, so that tests moving it move both.
	s.throttle = throttle.New(st, policy, func() time.Time { return s.now() })
	return s, nil
}

// Client is where a sign-in comes from.
type Client struct {
	IP        string
	UserAgent string
}

var errBadLogin = protocol.Errorf(protocol.CodeUnauthorized, "wrong username or password")

// Login checks credentials and issues a token. Too many failures of the
// account or of the client's address lock it out for a while (a *Locked
// error), even with the right password; an unknown username counts and
// answers exactly as a wrong password, so neither tells which names exist.
func (s *Service) Login(ctx context.Context, username, password string, from Client) (string, store.Agent, error) {
	lock, err := s.throttle.Check(ctx, username, from.IP)
	if err != nil {
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	if lock.Locked() {
		return "", store.Agent{}, lockedError(lock)
	}
	agent, err := s.store.GetAgentByUsername(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_ = identity.CheckPassword(s.dummyHash, password)
		return "", store.Agent{}, s.failed(ctx, username, from, nil)
	case err != nil:
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	if err := identity.CheckPassword(agent.PasswordHash, password); err != nil {
		if errors.Is(err, identity.ErrBadPassword) {
			return "", store.Agent{}, s.failed(ctx, username, from, &agent)
		}
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	if err := s.throttle.Succeed(ctx, username); err != nil {
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	if agent.Disabled {
		return "", store.Agent{}, protocol.Errorf(protocol.CodeForbidden, "this account is disabled")
	}
	token, hash := identity.NewToken()
	now := s.now()
	t := store.Token{Hash: hash, AgentID: agent.ID, ExpiresAt: now.Add(s.ttl), CreatedAt: now, IP: from.IP, UserAgent: clip(from.UserAgent, maxUserAgent)}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	return token, agent, nil
}

// failed counts a failed sign-in and returns its answer: the lock it
// reached, or the wrong-credentials error. agent is who the username names
// (nil: nobody); the start of its lock goes into its tenant's audit log.
func (s *Service) failed(ctx context.Context, username string, from Client, agent *store.Agent) error {
	lock, lockedAccount, err := s.throttle.Fail(ctx, username, from.IP)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if !lock.Locked() {
		return errBadLogin
	}
	if lockedAccount && agent != nil {
		e := store.AuditEntry{
			Orgi: agent.Orgi, ActorName: agent.Username, Action: "auth.lockout", Target: agent.ID, IP: from.IP,
			Detail: fmt.Sprintf(`{"failures":%d,"until":%q}`, s.throttle.Policy().AccountFailures, lock.Until.Format(time.RFC3339)),
		}
		if err := s.store.AppendAudit(ctx, e); err != nil {
			return fmt.Errorf("login: %w", err)
		}
	}
	return lockedError(lock)
}

var errBadToken = protocol.Errorf(protocol.CodeUnauthorized, "missing, expired or invalid token")

// Authenticate resolves a bearer token, extending its life (sliding expiry).
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, errBadToken
	}
	hash := identity.HashToken(token)
	t, err := s.store.GetToken(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errBadToken
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.now()
	if !now.Before(t.ExpiresAt) {
		_ = s.store.DeleteToken(ctx, hash)
		return Principal{}, errBadToken
	}
	agent, err := s.store.GetAgent(ctx, t.AgentID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && agent.Disabled) {
		return Principal{}, errBadToken
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	// Extend at most once a minute: a write per request would be waste.
	if next := now.Add(s.ttl); next.Sub(t.ExpiresAt) > time.Minute {
		if err := s.store.ExtendToken(ctx, hash, next); err != nil {
			return Principal{}, fmt.Errorf("authenticate: %w", err)
		}
	}
	return Principal{Agent: agent, TokenHash: hash}, nil
}

// Logout ends the login that token belongs to.
func (s *Service) Logout(ctx context.Context, p Principal) error {
	if err := s.store.DeleteToken(ctx, p.TokenHash); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}
