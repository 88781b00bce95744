package tenancy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the tenant rules read and write.
type Store interface {
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
	GetAgentByUsername(ctx context.Context, username string) (store.Agent, error)
	CreateTenantWithAdmin(ctx context.Context, t *store.Tenant, admin *store.Agent) error
	UpdateTenant(ctx context.Context, t *store.Tenant) error
	DeleteTenantTokens(ctx context.Context, orgi string) error
}

// Emitter reaches sockets on every gateway node.
type Emitter interface {
	ToRoom(ctx context.Context, namespace, room, event string, v any, except string) error
}

// Service applies the rules.
type Service struct {
	Store Store
	// Emit closes a disabled tenant's open sockets; nil when no broker is
	// reachable (the admin command of a single-process install), in which
	// case Update reports that they were left open.
	Emit Emitter
}

// NewTenant is a tenant to create with its first admin.
type NewTenant struct {
	ID       string
	Name     string
	TimeZone string
	Admin    NewAdmin
}

// NewAdmin is a tenant's first admin.
type NewAdmin struct {
	Username string
	Password string
	Nickname string // empty: the username
	// Platform also grants the installation's superadmin role (tenants
	// page), which no tenant admin can grant.
	Platform bool
}

// Validate checks every field; the first problem is the error.
func (n NewTenant) Validate() error {
	if err := ValidateID(n.ID); err != nil {
		return err
	}
	if err := ValidateName(n.Name); err != nil {
		return err
	}
	if err := ValidateTimeZone(n.TimeZone); err != nil {
		return err
	}
	if err := ValidateUsername(n.Admin.Username); err != nil {
		return err
	}
	if err := ValidatePassword(n.Admin.Password, n.Admin.Username); err != nil {
		return err
	}
	if utf8.RuneCountInString(strings.TrimSpace(n.Admin.Nickname)) > MaxNicknameLen {
		return protocol.Errorf(protocol.CodeBadRequest, "admin nickname must be at most %d characters", MaxNicknameLen)
	}
	return nil
}

// Create validates n and stores the tenant and its admin together. A taken
// id or username is a `conflict` naming which.
func (s Service) Create(ctx context.Context, n NewTenant) (store.Tenant, store.Agent, error) {
	if err := n.Validate(); err != nil {
		return store.Tenant{}, store.Agent{}, err
	}
	// Checked first for a clear message; the transaction still decides.
	switch _, err := s.Store.GetTenant(ctx, n.ID); {
	case err == nil:
		return store.Tenant{}, store.Agent{}, protocol.Errorf(protocol.CodeConflict, "tenant id %q is taken", n.ID)
	case !errors.Is(err, store.ErrNotFound):
		return store.Tenant{}, store.Agent{}, err
	}
	switch _, err := s.Store.GetAgentByUsername(ctx, n.Admin.Username); {
	case err == nil:
		return store.Tenant{}, store.Agent{}, protocol.Errorf(protocol.CodeConflict, "username %q is taken", n.Admin.Username)
	case !errors.Is(err, store.ErrNotFound):
		return store.Tenant{}, store.Agent{}, err
	}
	hash, err := identity.HashPassword(n.Admin.Password)
	if err != nil {
		return store.Tenant{}, store.Agent{}, err
	}
	roles := []string{protocol.RoleAdmin}
	if n.Admin.Platform {
		roles = append(roles, protocol.RoleSuperAdmin)
	}
	nick := strings.TrimSpace(n.Admin.Nickname)
	if nick == "" {
		nick = n.Admin.Username
	}
	t := store.Tenant{ID: n.ID, Name: strings.TrimSpace(n.Name), TimeZone: n.TimeZone}
	admin := store.Agent{Username: n.Admin.Username, PasswordHash: hash, Nickname: nick, Roles: strings.Join(roles, ",")}
	if err := s.Store.CreateTenantWithAdmin(ctx, &t, &admin); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Tenant{}, store.Agent{}, protocol.Errorf(protocol.CodeConflict, "tenant id %q or username %q was just taken", n.ID, n.Admin.Username)
		}
		return store.Tenant{}, store.Agent{}, err
	}
	return t, admin, nil
}

// Change is an edit of a tenant; nil fields stay as they are.
type Change struct {
	Name     *string
	TimeZone *string
	Disabled *bool
}

// Validate checks the fields that are set.
func (c Change) Validate() error {
	if c.Name != nil {
		if err := ValidateName(*c.Name); err != nil {
			return err
		}
	}
	if c.TimeZone != nil {
		if err := ValidateTimeZone(*c.TimeZone); err != nil {
			return err
		}
	}
	return nil
}

// ErrSocketsLeftOpen says that a tenant was disabled but its open sockets
// could not be told to close (no broker, or publishing failed). Its logins
// did end: no token of it works any more, and no new socket is admitted.
var ErrSocketsLeftOpen = errors.New("tenant disabled, but its open sockets were not closed")

// Update applies c to tenant id. Disabling ends the tenant's logins (its
// tokens are deleted, so they stop working at once on every node) and
// closes its agents' and visitors' open sockets on every node; doing it
// again repeats that, so a retry after a failed publish helps.
func (s Service) Update(ctx context.Context, id string, c Change) (store.Tenant, error) {
	if err := c.Validate(); err != nil {
		return store.Tenant{}, err
	}
	t, err := s.Store.GetTenant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Tenant{}, protocol.Errorf(protocol.CodeNotFound, "tenant %q not found", id)
	}
	if err != nil {
		return store.Tenant{}, err
	}
	if c.Name != nil {
		t.Name = strings.TrimSpace(*c.Name)
	}
	if c.TimeZone != nil {
		t.TimeZone = *c.TimeZone
	}
	if c.Disabled != nil {
		t.Disabled = *c.Disabled
	}
	if err := s.Store.UpdateTenant(ctx, &t); err != nil {
		return store.Tenant{}, err
	}
	if c.Disabled == nil || !*c.Disabled {
		return t, nil
	}
	// After the flag is written: a login that read it as enabled created
	// its token before, so this deletes that token too.
	if err := s.Store.DeleteTenantTokens(ctx, id); err != nil {
		return t, err
	}
	return t, s.closeSockets(ctx, id)
}

// closeSockets ends the tenant's sockets on every node: agents get
// `leave`, visitors `refused`, and gateways disconnect both after it.
func (s Service) closeSockets(ctx context.Context, id string) error {
	if s.Emit == nil {
		return fmt.Errorf("%w: no broker is configured (KEFU_REDIS_URL) to reach the gateway; restart it, or disable the tenant from the tenants page of /admin/", ErrSocketsLeftOpen)
	}
	room := protocol.TenantRoom(id)
	err := errors.Join(
		s.Emit.ToRoom(ctx, protocol.NamespaceAgent, room, protocol.EventLeave, protocol.Leave{Reason: protocol.LeaveTenantDisabled}, ""),
		s.Emit.ToRoom(ctx, protocol.NamespaceUser, room, protocol.EventRefused, protocol.ErrTenantDisabled, ""),
	)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSocketsLeftOpen, err)
	}
	return nil
}

// TenantReader reads a tenant.
type TenantReader interface {
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
}

// Admit returns the tenant, refusing a disabled one with
// protocol.ErrTenantDisabled. A tenant without a row (staff created before
// tenants had rows) is admitted as the zero tenant (time zone UTC).
func Admit(ctx context.Context, st TenantReader, orgi string) (store.Tenant, error) {
	t, err := st.GetTenant(ctx, orgi)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Tenant{ID: orgi}, nil
	case err != nil:
		return store.Tenant{}, fmt.Errorf("tenancy: read tenant %s: %w", orgi, err)
	case t.Disabled:
		return store.Tenant{}, protocol.ErrTenantDisabled
	}
	return t, nil
}
