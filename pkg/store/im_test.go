package store

import "testing"

func TestIMUnreadAndRead(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		say := func(from, to, group string) {
			m := IMMessage{Orgi: "o", From: from, ClientID: NewID(), Body: "x", GroupID: group}
			if to != "" {
				m.Pair = Pair(from, to)
			}
			if _, _, err := s.AppendIM(ctx, &m); err != nil {
				t.Fatal(err)
			}
		}
		g := IMGroup{Orgi: "o", Name: "g", CreatedBy: "a"}
		if err := s.CreateIMGroup(ctx, &g, []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		say("a", "b", "")
		say("a", "b", "")
		say("b", "a", "")
		say("c", "b", "")
		say("a", "", g.ID)
		say("b", "", g.ID)
		byAgent, byGroup, err := s.IMUnread(ctx, "b")
		if err != nil || byAgent["a"] != 2 || byAgent["c"] != 1 || byGroup[g.ID] != 1 {
			t.Fatalf("unread of b: %v %v %v", byAgent, byGroup, err)
		}
		if err := s.MarkIMRead(ctx, "b", "a", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkIMRead(ctx, "b", "", g.ID); err != nil {
			t.Fatal(err)
		}
		byAgent, byGroup, _ = s.IMUnread(ctx, "b")
		if byAgent["a"] != 0 || byAgent["c"] != 1 || byGroup[g.ID] != 0 {
			t.Fatalf("after reading: %v %v", byAgent, byGroup)
		}
		m := IMMessage{Orgi: "o", From: "a", ClientID: "same", Body: "once", Pair: Pair("a", "b")}
		first, _, _ := s.AppendIM(ctx, &m)
		again, dup, err := s.AppendIM(ctx, &m)
		if err != nil || !dup || again.ID != first.ID {
			t.Fatalf("resend: %v %v %v", dup, again.ID, err)
		}
	})
}
