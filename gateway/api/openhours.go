package api

import (
	"time"

	"github.com/kefu-im/kefu/pkg/sessionconf"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/workhours"
)

// resolveSettings is what t's settings make of group g (nil: the tenant's
// own), as routing resolves them.
func resolveSettings(t store.Tenant, cfgs []store.SessionConfig, g *store.SkillGroup) sessionconf.Resolved {
	in := sessionconf.Input{TenantMaxUser: t.MaxUser}
	for i := range cfgs {
		switch {
		case cfgs[i].Skill == "":
			in.Tenant = &cfgs[i]
		case g != nil && cfgs[i].Skill == g.ID:
			in.Group = &cfgs[i]
		}
	}
	if g != nil {
		in.GroupMaxUser = g.MaxUser
	}
	return sessionconf.Resolve(in)
}

// openAt reports whether r's working hours are open at `at` on the
// tenant's clock. For a skill group's (the widget's skill picker), resolve
// with that group; a disabled or unknown group has the tenant's hours.
func openAt(t store.Tenant, r sessionconf.Resolved, at time.Time) bool {
	return r.Hours().Open(at, workhours.ZoneOrUTC(t.TimeZone))
}
