package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTenantsCreateWithAdminListUpdate(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten := Tenant{ID: "acme", Name: "Acme", TimeZone: "Asia/Shanghai"}
		admin := Agent{Username: "alice", PasswordHash: "h", Nickname: "Alice", Roles: "admin"}
		if err := s.CreateTenantWithAdmin(ctx, &ten, &admin); err != nil {
			t.Fatal(err)
		}
		if admin.ID == "" || admin.Orgi != "acme" || ten.CreatedAt.IsZero() {
			t.Fatalf("filled %+v %+v", ten, admin)
		}
		if got, err := s.GetAgentByUsername(ctx, "alice"); err != nil || got.Orgi != "acme" {
			t.Fatalf("admin %+v %v", got, err)
		}

		// A taken username rolls the tenant back: no tenant without an admin.
		dup := Agent{Username: "ALICE", PasswordHash: "h", Nickname: "x", Roles: "admin"}
		if err := s.CreateTenantWithAdmin(ctx, &Tenant{ID: "beta", Name: "Beta"}, &dup); !errors.Is(err, ErrConflict) {
			t.Fatalf("taken username: %v", err)
		}
		if _, err := s.GetTenant(ctx, "beta"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("tenant of a failed admin kept: %v", err)
		}
		if err := s.CreateTenantWithAdmin(ctx, &Tenant{ID: "acme", Name: "Again"}, &Agent{Username: "zed", PasswordHash: "h", Roles: "admin"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("taken id: %v", err)
		}
		if _, err := s.GetAgentByUsername(ctx, "zed"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("admin of a failed tenant kept: %v", err)
		}
		gamma := Agent{Username: "gus", PasswordHash: "h", Roles: "admin"}
		if err := s.CreateTenantWithAdmin(ctx, &Tenant{ID: "gamma", Name: "Gamma"}, &gamma); err != nil {
			t.Fatal(err)
		}

		ts, err := s.ListTenants(ctx)
		if err != nil || len(ts) != 2 || ts[0].ID != "acme" || ts[1].ID != "gamma" || ts[1].TimeZone != "UTC" {
			t.Fatalf("list %+v %v", ts, err)
		}
		ten.Name, ten.TimeZone, ten.Disabled, ten.MaxUser = "Acme 2", "UTC", true, 7
		if err := s.UpdateTenant(ctx, &ten); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateTenant(ctx, &ten); err != nil {
			t.Fatalf("same values again: %v", err)
		}
		if got, _ := s.GetTenant(ctx, "acme"); got.Name != "Acme 2" || got.TimeZone != "UTC" || !got.Disabled || got.MaxUser != 7 {
			t.Fatalf("updated %+v", got)
		}
		if err := s.UpdateTenant(ctx, &Tenant{ID: "nope", Name: "x"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update unknown: %v", err)
		}

		exp := time.Now().Add(time.Hour)
		for _, tok := range []Token{{Hash: "h-alice", AgentID: admin.ID}, {Hash: "h-gus", AgentID: gamma.ID}} {
			tok.ExpiresAt, tok.CreatedAt = exp, time.Now()
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteTenantTokens(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetToken(ctx, "h-alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("acme's token survived: %v", err)
		}
		if _, err := s.GetToken(ctx, "h-gus"); err != nil {
			t.Fatalf("another tenant's token went: %v", err)
		}
	})
}
