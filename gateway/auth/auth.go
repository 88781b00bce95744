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
	store Store
	ttl   time.Duration
	now   func() time.Time
	// dummyHash makes a login for an unknown user cost as much as one with
	// a wrong password, so timing does not reveal which usernames exist.
	dummyHash string
}

// New returns a Service whose tokens live ttl since their last use.
func New(st Store, ttl time.Duration) (*Service, error) {
	h, err := identity.HashPassword("timing-equaliser")
	if err != nil {
		return nil, err
	}
	return &Service{store: st, ttl: ttl, now: func() time.Time { return time.Now().UTC() }, dummyHash: h}, nil
}

var errBadLogin = protocol.Errorf(protocol.CodeUnauthorized, "wrong username or password")

// Login checks credentials and issues a token.
func (s *Service) Login(ctx context.Context, username, password string) (string, store.Agent, error) {
	agent, err := s.store.GetAgentByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		_ = identity.CheckPassword(s.dummyHash, password)
		return "", store.Agent{}, errBadLogin
	}
	if err != nil {
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	if err := identity.CheckPassword(agent.PasswordHash, password); err != nil {
		if errors.Is(err, identity.ErrBadPassword) {
			return "", store.Agent{}, errBadLogin
		}
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	if agent.Disabled {
		return "", store.Agent{}, protocol.Errorf(protocol.CodeForbidden, "this account is disabled")
	}
	token, hash := identity.NewToken()
	now := s.now()
	if err := s.store.CreateToken(ctx, store.Token{Hash: hash, AgentID: agent.ID, ExpiresAt: now.Add(s.ttl), CreatedAt: now}); err != nil {
		return "", store.Agent{}, fmt.Errorf("login: %w", err)
	}
	return token, agent, nil
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
