package admincli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/tenancy"
)

func createTenant(fs *flag.FlagSet) func(context.Context, *env) error {
	var n tenancy.NewTenant
	var pw password
	fs.StringVar(&n.ID, "id", "", "")
	fs.StringVar(&n.Name, "name", "", "")
	fs.StringVar(&n.TimeZone, "timezone", "UTC", "")
	fs.StringVar(&n.Admin.Username, "admin", "", "")
	fs.StringVar(&n.Admin.Nickname, "nickname", "", "")
	fs.BoolVar(&n.Admin.Platform, "platform", false, "")
	pw.flags(fs)
	return func(ctx context.Context, e *env) error {
		if n.ID == "" || n.Name == "" || n.Admin.Username == "" {
			return fmt.Errorf("%w: --id, --name and --admin are required", errUsage)
		}
		var generated bool
		var err error
		if n.Admin.Password, generated, err = pw.read(e.Stdin, os.ReadFile, n.Admin.Username); err != nil {
			return err
		}
		t, admin, err := e.tenants.Create(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "Created tenant %s (%s, time zone %s) and its admin %s (roles %s).\n", t.ID, t.Name, t.TimeZone, admin.Username, admin.Roles)
		if generated {
			fmt.Fprintf(e.Stdout, "Password of %s: %s\n(shown only now: keep it, or change it after logging in at /admin/)\n", admin.Username, n.Admin.Password)
		}
		return nil
	}
}

func listTenants(*flag.FlagSet) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		ts, err := e.store.ListTenants(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tTIME ZONE\tDISABLED\tCREATED")
		for _, t := range ts {
			fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\n", t.ID, t.Name, t.TimeZone, t.Disabled, t.CreatedAt.UTC().Format(time.RFC3339))
		}
		return w.Flush()
	}
}

func setDisabled(fs *flag.FlagSet, disabled bool) func(context.Context, *env) error {
	id := fs.String("id", "", "")
	return func(ctx context.Context, e *env) error {
		if *id == "" {
			return fmt.Errorf("%w: --id is required", errUsage)
		}
		t, err := e.tenants.Update(ctx, *id, tenancy.Change{Disabled: &disabled})
		if errors.Is(err, tenancy.ErrSocketsLeftOpen) {
			// The tenant is disabled and its tokens are gone: worth a
			// warning, not a failure.
			fmt.Fprintln(e.Stderr, "warning:", err)
			err = nil
		}
		if err != nil {
			return err
		}
		state := "enabled"
		if t.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(e.Stdout, "Tenant %s (%s) is %s.\n", t.ID, t.Name, state)
		return nil
	}
}

func resetPassword(fs *flag.FlagSet) func(context.Context, *env) error {
	username := fs.String("username", "", "")
	var pw password
	pw.flags(fs)
	return func(ctx context.Context, e *env) error {
		if *username == "" {
			return fmt.Errorf("%w: --username is required", errUsage)
		}
		ag, err := e.store.GetAgentByUsername(ctx, *username)
		if errors.Is(err, store.ErrNotFound) || (err == nil && ag.DeletedAt != nil) {
			return fmt.Errorf("no user %q", *username)
		}
		if err != nil {
			return err
		}
		secret, generated, err := pw.read(e.Stdin, os.ReadFile, ag.Username)
		if err != nil {
			return err
		}
		if ag.PasswordHash, err = identity.HashPassword(secret); err != nil {
			return err
		}
		if err := e.store.UpdateAgent(ctx, &ag, nil); err != nil {
			return err
		}
		// A reset password may have been a leaked one: its logins end.
		if err := e.store.DeleteAgentTokens(ctx, ag.ID); err != nil {
			return err
		}
		if e.emit != nil {
			if err := e.emit.ToAgent(ctx, ag.ID, protocol.EventLeave, protocol.Leave{Reason: "password reset"}); err != nil {
				fmt.Fprintln(e.Stderr, "warning: the user's open sockets were not told:", err)
			}
		}
		fmt.Fprintf(e.Stdout, "Password of %s (tenant %s) changed; its logins ended.\n", ag.Username, ag.Orgi)
		if generated {
			fmt.Fprintf(e.Stdout, "New password: %s\n(shown only now)\n", secret)
		}
		return nil
	}
}
