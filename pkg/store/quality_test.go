package store

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
)

func itemNames(items []QualityItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Name
	}
	return out
}

func TestQualityItems(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if items, err := s.QualityItems(ctx, "org1"); err != nil || len(items) != 0 {
			t.Fatalf("new tenant: %v %v", items, err)
		}
		first, err := s.ReplaceQualityItems(ctx, "org1", []QualityItem{{Name: "Greeting", Weight: 1}, {Name: "Accuracy", Weight: 3}, {Name: "Tone", Weight: 2}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReplaceQualityItems(ctx, "org2", []QualityItem{{Name: "Other tenant", Weight: 1}}); err != nil {
			t.Fatal(err)
		}
		// Reorder, rename one, drop one, add one.
		next, err := s.ReplaceQualityItems(ctx, "org1", []QualityItem{
			{ID: first[2].ID, Name: "Tone", Weight: 5}, {Name: "Closing", Weight: 1}, {ID: first[0].ID, Name: "Greeting and name", Weight: 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.QualityItems(ctx, "org1")
		if err != nil {
			t.Fatal(err)
		}
		if names := itemNames(got); !slices.Equal(names, []string{"Tone", "Closing", "Greeting and name"}) {
			t.Fatalf("checklist %v", names)
		}
		if got[0].ID != first[2].ID || got[0].Weight != 5 || got[2].ID != first[0].ID || got[1].ID != next[1].ID || !got[0].CreatedAt.Equal(first[2].CreatedAt) {
			t.Errorf("ids, weights or creation kept wrong: %+v", got)
		}
		other, _ := s.QualityItems(ctx, "org2")
		for _, bad := range [][]QualityItem{{{ID: "nope", Name: "x", Weight: 1}}, {{ID: other[0].ID, Name: "stolen", Weight: 1}}} {
			if _, err := s.ReplaceQualityItems(ctx, "org1", bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("replace with %+v: %v, want ErrNotFound", bad, err)
			}
		}
		if got, _ := s.QualityItems(ctx, "org1"); len(got) != 3 {
			t.Errorf("a refused replace changed the checklist: %v", itemNames(got))
		}
		if _, err := s.ReplaceQualityItems(ctx, "org1", nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.QualityItems(ctx, "org1"); len(got) != 0 {
			t.Errorf("cleared checklist: %v", itemNames(got))
		}
		if got, _ := s.QualityItems(ctx, "org2"); len(got) != 1 {
			t.Errorf("the other tenant's checklist: %v", itemNames(got))
		}
	})
}

func TestSaveAndGetReview(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		sess := endedChat(t, s, Session{AgentNo: "ag1"}, archiveT0, "hi")
		if _, err := s.GetReview(ctx, sess.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no review yet: %v", err)
		}
		lines := []ReviewLine{{Item: "i1", Name: "Tone", Weight: 2, Score: 5}, {Item: "i2", Name: "Accuracy", Weight: 1, Score: 2}}
		saved, err := s.SaveReview(ctx, QualityReview{SessionID: sess.ID, Orgi: "org1", AgentNo: "ag1", ReviewerID: "sup1", ReviewerName: "Sue", Score: 80, Comment: "good"}, lines)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.GetReview(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		gotLines, err := got.Lines()
		if err != nil || !slices.Equal(gotLines, lines) || got.Score != 80 || got.Comment != "good" || got.ReviewerName != "Sue" || !got.CreatedAt.Equal(saved.CreatedAt) {
			t.Fatalf("review %+v lines %+v err %v", got, gotLines, err)
		}
		// Scored again by someone else: replaced, first made time kept.
		again, err := s.SaveReview(ctx, QualityReview{SessionID: sess.ID, Orgi: "org1", AgentNo: "ag1", ReviewerID: "sup2", ReviewerName: "Sam", Score: 46.7}, lines[:1])
		if err != nil {
			t.Fatal(err)
		}
		if again.Score != 46.7 || again.ReviewerID != "sup2" || again.Comment != "" || !again.CreatedAt.Equal(saved.CreatedAt) || again.UpdatedAt.Before(saved.UpdatedAt) {
			t.Fatalf("re-scored: %+v", again)
		}
		evs, err := s.SessionEvents(ctx, sess.ID)
		if err != nil || len(evs) != 2 || evs[0].Kind != protocol.SessionReviewed || evs[0].Actor != "sup1" || evs[0].Target != "ag1" || evs[1].Detail != "46.7" {
			t.Fatalf("events: %+v %v", evs, err)
		}
		scores, err := s.ReviewScores(ctx, []string{sess.ID, "other"})
		if err != nil || len(scores) != 1 || scores[sess.ID] != 46.7 {
			t.Fatalf("scores: %v %v", scores, err)
		}
	})
}

func TestListReviews(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		review := func(sess Session) {
			t.Helper()
			if _, err := s.SaveReview(ctx, QualityReview{SessionID: sess.ID, Orgi: sess.Orgi, AgentNo: sess.AgentNo, ReviewerID: "sup", Score: 50}, nil); err != nil {
				t.Fatal(err)
			}
		}
		a1 := endedChat(t, s, Session{Skill: "sales", AgentNo: "a"}, archiveT0)
		a2 := endedChat(t, s, Session{Skill: "support", AgentNo: "a"}, archiveT0)
		b1 := endedChat(t, s, Session{Skill: "support", AgentNo: "b"}, archiveT0)
		x := endedChat(t, s, Session{Orgi: "org2", AgentNo: "a"}, archiveT0)
		for _, sess := range []Session{a1, a2, b1, x} {
			review(sess)
		}
		endedChat(t, s, Session{AgentNo: "a"}, archiveT0) // not reviewed
		list := func(q ReviewQuery) []string {
			t.Helper()
			var ids []string
			for {
				page, err := s.ListReviews(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Reviews {
					if r.Session.ID != r.Review.SessionID {
						t.Fatalf("review of %s with session %s", r.Review.SessionID, r.Session.ID)
					}
					ids = append(ids, r.Review.SessionID)
				}
				if page.Next == nil {
					return ids
				}
				q.Before = page.Next
			}
		}
		// Paged by one, the same as in one page: newest first, ties by id.
		all := list(ReviewQuery{Orgi: "org1", Scope: ChatScope{Tenant: true}, Limit: 1})
		if one := list(ReviewQuery{Orgi: "org1", Scope: ChatScope{Tenant: true}}); !slices.Equal(all, one) || !sameSet(all, []string{a1.ID, a2.ID, b1.ID}) {
			t.Fatalf("tenant: paged by one %v, in one page %v", all, one)
		}
		for _, tc := range []struct {
			name string
			q    ReviewQuery
			want []string
		}{
			{"an agent's own", ReviewQuery{Scope: ChatScope{AgentNo: "a"}}, []string{a1.ID, a2.ID}},
			{"by agent", ReviewQuery{Scope: ChatScope{Tenant: true}, AgentNo: "b"}, []string{b1.ID}},
			{"a supervisor of support", ReviewQuery{Scope: ChatScope{AgentNo: "sup", Skills: []string{"support"}}}, []string{a2.ID, b1.ID}},
			{"before they were made", ReviewQuery{Scope: ChatScope{Tenant: true}, To: time.Now().Add(-time.Hour)}, nil},
			{"since an hour ago", ReviewQuery{Scope: ChatScope{Tenant: true}, From: time.Now().Add(-time.Hour), AgentNo: "a"}, []string{a1.ID, a2.ID}},
		} {
			tc.q.Orgi = "org1"
			if got := list(tc.q); !sameSet(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

// sameSet: two lists hold the same ids (in whatever order reviews made in
// the same millisecond or not come).
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
