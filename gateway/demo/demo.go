// Package demo seeds the demo tenant a new installation starts with: a site
// any page may embed, an admin and an agent.
package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Fixed names of the demo objects.
const (
	Tenant = "demo"
	AppID  = "demo"
	Admin  = "admin"
	Agent  = "agent"
)

// Store is what seeding writes.
type Store interface {
	SaveSessionConfig(ctx context.Context, c store.SessionConfig) error
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
	CreateTenant(ctx context.Context, t *store.Tenant) error
	GetSite(ctx context.Context, appID string) (store.Site, error)
	CreateSite(ctx context.Context, s *store.Site) error
	GetAgentByUsername(ctx context.Context, username string) (store.Agent, error)
	CreateAgent(ctx context.Context, a *store.Agent, skillIDs []string) error
}

// Result says what Seed created; Password is set when users were created.
type Result struct {
	Created  []string
	Password string
}

// Seed creates whatever of the demo is missing. Several processes may seed
// the same database at once: losing a creation race counts as present.
// An empty password gets a random one, reported in the Result.
func Seed(ctx context.Context, st Store, password string) (Result, error) {
	var res Result
	if _, err := st.GetTenant(ctx, Tenant); errors.Is(err, store.ErrNotFound) {
		if err := created(&res, "tenant "+Tenant, st.CreateTenant(ctx, &store.Tenant{ID: Tenant, Name: "Demo", TimeZone: "UTC"})); err != nil {
			return res, err
		}
		// The demo pages are in English: so are its prompts (UCKeFu's
		// Chinese ones stay every other tenant's default).
		if err := st.SaveSessionConfig(ctx, store.SessionConfig{Orgi: Tenant, Lang: prompt.English}); err != nil {
			return res, fmt.Errorf("seed: %w", err)
		}
	} else if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}
	if _, err := st.GetSite(ctx, AppID); errors.Is(err, store.ErrNotFound) {
		site := &store.Site{AppID: AppID, Orgi: Tenant, Name: "Demo site", Origins: `["*"]`, Config: `{"sneakpeek":true}`}
		if err := created(&res, "site "+AppID, st.CreateSite(ctx, site)); err != nil {
			return res, err
		}
	} else if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}
	users := []struct{ name, nick, roles string }{
		{Admin, "Admin", protocol.RoleAdmin + "," + protocol.RoleSupervisor},
		{Agent, "Agent Smith", protocol.RoleAgent},
	}
	for _, u := range users {
		if _, err := st.GetAgentByUsername(ctx, u.name); !errors.Is(err, store.ErrNotFound) {
			if err != nil {
				return res, fmt.Errorf("seed: %w", err)
			}
			continue
		}
		if password == "" {
			password = identity.NewSecret()[:12]
		}
		hash, err := identity.HashPassword(password)
		if err != nil {
			return res, err
		}
		a := &store.Agent{Orgi: Tenant, Username: u.name, PasswordHash: hash, Nickname: u.nick, Roles: u.roles}
		if err := created(&res, "user "+u.name, st.CreateAgent(ctx, a, nil)); err != nil {
			return res, err
		}
		res.Password = password
	}
	return res, nil
}

func created(res *Result, what string, err error) error {
	switch {
	case err == nil:
		res.Created = append(res.Created, what)
		return nil
	case errors.Is(err, store.ErrConflict):
		return nil
	default:
		return fmt.Errorf("seed %s: %w", what, err)
	}
}
