package store

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCannedSearchMatchesWildcardsLiterally(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, r := range []CannedReply{
			{Orgi: "o1", Title: "Discount", Content: "100% off today"},
			{Orgi: "o1", Title: "Codes", Content: "use code A_B"},
			{Orgi: "o1", Title: "Paths", Content: `C:\temp! is fine`},
			{Orgi: "o1", Title: "Plain", Content: "nothing special"},
			{Orgi: "o2", Title: "Other tenant", Content: "100% theirs"},
		} {
			if err := s.SaveCanned(ctx, &r); err != nil {
				t.Fatal(err)
			}
		}
		for q, want := range map[string][]string{
			"%": {"Discount"}, "_": {"Codes"}, `\`: {"Paths"}, "!": {"Paths"}, "0% o": {"Discount"}, "A_B": {"Codes"},
			"a_b": {"Codes"}, "": {"Codes", "Discount", "Paths", "Plain"},
		} {
			got, err := s.ListCanned(ctx, "o1", "", q)
			if err != nil {
				t.Fatal(err)
			}
			titles := make([]string, len(got))
			for i, r := range got {
				titles[i] = r.Title
			}
			if !slices.Equal(titles, want) {
				t.Errorf("q %q found %v, want %v", q, titles, want)
			}
		}
	})
}

func TestTagsUniquePerKindAndDeletedWithLinks(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		vip := Tag{Orgi: "o1", Name: "VIP", Kind: "visitor"}
		if err := s.CreateTag(ctx, &vip); err != nil {
			t.Fatal(err)
		}
		for _, dup := range []Tag{{Orgi: "o1", Name: "vip", Kind: "visitor"}} {
			if err := s.CreateTag(ctx, &dup); !errors.Is(err, ErrConflict) {
				t.Fatalf("same name and kind: %v, want ErrConflict", err)
			}
		}
		for _, fine := range []Tag{{Orgi: "o1", Name: "VIP", Kind: "session"}, {Orgi: "o2", Name: "VIP", Kind: "visitor"}} {
			if err := s.CreateTag(ctx, &fine); err != nil {
				t.Fatalf("%+v: %v", fine, err)
			}
		}
		other := Tag{Orgi: "o1", Name: "Returning", Kind: "visitor"}
		if err := s.CreateTag(ctx, &other); err != nil {
			t.Fatal(err)
		}
		other.Name = "VIP"
		if err := s.UpdateTag(ctx, other); !errors.Is(err, ErrConflict) {
			t.Fatalf("rename onto another's name: %v", err)
		}
		if err := s.SetVisitorTags(ctx, "o1", "app", "u1", []string{vip.ID, other.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSessionTags(ctx, "s1", []string{vip.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteTag(ctx, vip.ID); err != nil {
			t.Fatal(err)
		}
		if ids, _ := s.VisitorTags(ctx, "app", "u1"); !slices.Equal(ids, []string{other.ID}) {
			t.Errorf("visitor's tags after the delete: %v", ids)
		}
		if ids, _ := s.SessionTags(ctx, "s1"); len(ids) != 0 {
			t.Errorf("session's tags after the delete: %v", ids)
		}
		other.Name, other.Kind = "Returning", "session"
		if err := s.UpdateTag(ctx, other); err != nil {
			t.Fatal(err)
		}
		if ids, _ := s.VisitorTags(ctx, "app", "u1"); len(ids) != 0 {
			t.Errorf("a tag that changed kind still labels the visitor: %v", ids)
		}
	})
}

func TestSearchBlacklistPagesAndFinds(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		at := base
		s.clock = func() time.Time { return at }
		if err := s.UpsertVisitor(ctx, Visitor{AppID: "app", UserID: "u3", Orgi: "o1", Nickname: "Lena 50%"}); err != nil {
			t.Fatal(err)
		}
		for i, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
			at = base.Add(time.Duration(i/2) * time.Minute) // two share a time: the cursor breaks the tie
			if err := s.Block(ctx, Blacklist{AppID: "app", UserID: u, Orgi: "o1", Until: base.Add(time.Hour), Reason: "spam " + u}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Block(ctx, Blacklist{AppID: "app", UserID: "old", Orgi: "o1", Until: base.Add(-time.Hour), Reason: "spam long ago"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Block(ctx, Blacklist{AppID: "app2", UserID: "x", Orgi: "o2", Until: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		at = base.Add(10 * time.Minute)
		var seen []string
		q := BlacklistQuery{Orgi: "o1", Limit: 2}
		for range 5 {
			rows, next, err := s.SearchBlacklist(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				seen = append(seen, r.UserID)
			}
			if next == nil {
				break
			}
			q.Before = next
		}
		if want := []string{"u5", "u4", "u3", "u2", "u1"}; !slices.Equal(seen, want) {
			t.Fatalf("pages gave %v, want %v", seen, want)
		}
		rows, _, err := s.SearchBlacklist(ctx, BlacklistQuery{Orgi: "o1", Q: "50%"})
		if err != nil || len(rows) != 1 || rows[0].UserID != "u3" || rows[0].Nickname != "Lena 50%" {
			t.Fatalf("by nickname: %+v %v", rows, err)
		}
		rows, _, _ = s.SearchBlacklist(ctx, BlacklistQuery{Orgi: "o1", Q: "long ago"})
		if len(rows) != 0 {
			t.Errorf("a block that ran out is listed by default: %+v", rows)
		}
		rows, _, _ = s.SearchBlacklist(ctx, BlacklistQuery{Orgi: "o1", Q: "long ago", Expired: true})
		if len(rows) != 1 || rows[0].UserID != "old" {
			t.Errorf("with expired: %+v", rows)
		}
		b, err := s.GetBlock(ctx, "o1", "app", "old")
		if err != nil {
			t.Fatal(err)
		}
		b.Until, b.Reason = at.Add(time.Hour), "again"
		if err := s.UpdateBlock(ctx, b); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Blocked(ctx, "app", "old"); err != nil || !ok || got.Reason != "again" {
			t.Errorf("extended block: %+v %v %v", got, ok, err)
		}
		if err := s.UpdateBlock(ctx, Blacklist{Orgi: "o2", AppID: "app", UserID: "old", Until: at}); !errors.Is(err, ErrNotFound) {
			t.Errorf("another tenant's entry: %v", err)
		}
	})
}

func TestCannedCategoriesDeleteAndWrite(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mk := func(name, parent string) CannedCategory {
			t.Helper()
			c := CannedCategory{Orgi: "o1", Name: name, ParentID: parent}
			if err := s.CreateCannedCategory(ctx, &c); err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			return c
		}
		a, b := mk("A", ""), mk("B", "")
		a1 := mk("A1", a.ID)
		if err := s.CreateCannedCategory(ctx, &CannedCategory{Orgi: "o1", Name: "a1", ParentID: a.ID}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a sibling of the same name: %v", err)
		}
		if err := s.CreateCannedCategory(ctx, &CannedCategory{Orgi: "o1", Owner: "agent", Name: "A"}); err != nil {
			t.Fatalf("an agent's own tree is apart: %v", err)
		}
		r := CannedReply{Orgi: "o1", CategoryID: a.ID, Title: "Hi", Content: "Hello"}
		if err := s.SaveCanned(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCannedCategory(ctx, a.ID, ""); !errors.Is(err, ErrConflict) {
			t.Fatalf("delete a non-empty one: %v", err)
		}
		mk("A1", b.ID)
		if err := s.DeleteCannedCategory(ctx, a.ID, b.ID); !errors.Is(err, ErrConflict) {
			t.Fatalf("moving A1 next to another A1: %v", err)
		}
		if err := s.UpdateCannedCategory(ctx, CannedCategory{ID: a1.ID, Orgi: "o1", Name: "A2", ParentID: a.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCannedCategory(ctx, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetCanned(ctx, r.ID); got.CategoryID != b.ID {
			t.Errorf("the reply did not move: %+v", got)
		}
		if got, _ := s.GetCannedCategory(ctx, a1.ID); got.ParentID != b.ID || got.Name != "A2" {
			t.Errorf("the child did not move: %+v", got)
		}
		counts, err := s.CannedCounts(ctx, "o1", "")
		if err != nil || counts[b.ID] != 1 {
			t.Errorf("counts %v %v", counts, err)
		}
		c := CannedCategory{ID: NewID(), Orgi: "o1", Name: "C"}
		if err := s.WriteCanned(ctx, []CannedCategory{c}, []CannedReply{{Orgi: "o1", CategoryID: c.ID, Title: "T", Content: "x"}},
			[]CannedReply{{ID: r.ID, Content: "Hello again"}}); err != nil {
			t.Fatal(err)
		}
		mine, err := s.CannedOf(ctx, "o1", "")
		if err != nil || len(mine) != 2 || mine[0].Content != "Hello again" || mine[1].CategoryID != c.ID {
			t.Errorf("after the write: %+v %v", mine, err)
		}
	})
}
