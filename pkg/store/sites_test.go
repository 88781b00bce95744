package store

import (
	"context"
	"slices"
	"testing"
)

func TestSiteSkillsKeepTheirOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		site := Site{Orgi: "t1", Name: "Shop"}
		if err := s.CreateSite(ctx, &site); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetSite(ctx, site.AppID); got.SkillIDs() != nil {
			t.Fatalf("a new site is bound to %v", got.SkillIDs())
		}
		site.SetSkillIDs([]string{"zeta", "alpha"})
		if err := s.UpdateSite(ctx, &site); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetSite(ctx, site.AppID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.SkillIDs(), []string{"zeta", "alpha"}) {
			t.Fatalf("skills = %v, want the order given", got.SkillIDs())
		}
		site.SetSkillIDs(nil)
		if err := s.UpdateSite(ctx, &site); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetSite(ctx, site.AppID); got.SkillIDs() != nil {
			t.Fatalf("unbound site still has %v", got.SkillIDs())
		}
	})
}
