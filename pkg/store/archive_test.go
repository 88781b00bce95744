package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
)

var archiveT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// endedChat stores an ended conversation (sess's fields, ended at end) with
// messages alternating visitor and agent, and returns it.
func endedChat(t *testing.T, s *Store, sess Session, end time.Time, msgs ...string) Session {
	t.Helper()
	if sess.Orgi == "" {
		sess.Orgi = "org1"
	}
	if sess.AppID == "" {
		sess.AppID = "app1"
	}
	if sess.UserID == "" {
		sess.UserID = "u-" + NewID()[:8]
	}
	sess.Status, sess.EndTime, sess.CreatedAt = protocol.SessionEnd, &end, end.Add(-10*time.Minute)
	if err := s.CreateSession(t.Context(), &sess); err != nil {
		t.Fatal(err)
	}
	for i, body := range msgs {
		m := textMessage(sess.ID, fmt.Sprintf("c%d", i), body)
		if i%2 == 1 {
			m.CallType = protocol.CallTypeOut
		}
		if _, _, err := s.AppendMessage(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	return sess
}

// indexAll runs the indexer's loop to the end.
func indexAll(t *testing.T, s *Store) {
	t.Helper()
	for {
		refs, err := s.UnarchivedSessions(t.Context(), 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) == 0 {
			return
		}
		if err := s.IndexSessions(t.Context(), refs); err != nil {
			t.Fatal(err)
		}
	}
}

func countTerms(t *testing.T, s *Store, sessionID string) int64 {
	t.Helper()
	var n int64
	if err := s.db.Model(&ArchiveTerm{}).Where("agentserviceid = ?", sessionID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// search runs a query and returns the ids found, failing on an error.
func search(t *testing.T, s *Store, f ArchiveFilter) []string {
	t.Helper()
	page, err := s.SearchArchive(t.Context(), ArchiveQuery{ArchiveFilter: f, Limit: 200})
	if err != nil {
		t.Fatalf("SearchArchive(%+v): %v", f, err)
	}
	return sessionIDs(page.Sessions)
}

func TestIndexSessions(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		a := endedChat(t, s, Session{}, archiveT0, "Hello there", "Hello! How can I help?")
		b := endedChat(t, s, Session{}, archiveT0.Add(time.Minute))
		open := newTestSession(t, s, "org1", "app1", "still-here")
		if _, _, err := s.AppendMessage(ctx, textMessage(open.ID, "c1", "not yet")); err != nil {
			t.Fatal(err)
		}
		// A system notice is not indexed; a file's name is.
		if _, _, err := s.AppendMessage(ctx, &Message{SessionID: b.ID, ClientID: "sys", Type: "message", MsgType: "text", CallType: protocol.CallTypeSystem, Body: "Welcome"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AppendMessage(ctx, &Message{SessionID: b.ID, ClientID: "f", Type: "message", MsgType: "file", CallType: "in", Filename: "invoice-2026.pdf"}); err != nil {
			t.Fatal(err)
		}
		refs, err := s.UnarchivedSessions(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []ArchiveRef{{a.ID, "org1"}, {b.ID, "org1"}}; !slices.Equal(refs, want) {
			t.Fatalf("unarchived = %v, want the ended ones, first ended first: %v", refs, want)
		}
		if err := s.IndexSessions(ctx, refs); err != nil {
			t.Fatal(err)
		}
		// hello, there, how, can, i, help; invoice, 2026, pdf.
		if na, nb := countTerms(t, s, a.ID), countTerms(t, s, b.ID); na != 6 || nb != 3 {
			t.Errorf("terms: %d and %d, want 6 and 3", na, nb)
		}
		if refs, _ := s.UnarchivedSessions(ctx, 10); len(refs) != 0 {
			t.Errorf("still unarchived after indexing: %v", refs)
		}
		// Again: the same rows, no error.
		if err := s.IndexSessions(ctx, []ArchiveRef{{a.ID, "org1"}}); err != nil {
			t.Fatal(err)
		}
		if n := countTerms(t, s, a.ID); n != 6 {
			t.Errorf("terms after re-indexing: %d, want 6", n)
		}
		if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: "welcome"}); len(got) != 0 {
			t.Errorf("a system notice was found: %v", got)
		}
		if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: "INVOICE-2026.pdf"}); !slices.Equal(got, []string{b.ID}) {
			t.Errorf("file name: %v, want %v", got, []string{b.ID})
		}
		if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: "not yet"}); len(got) != 0 {
			t.Errorf("an open chat is in the archive: %v", got)
		}
	})
}

func TestSearchArchiveFilters(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		at := func(h int) time.Time { return archiveT0.Add(time.Duration(h) * time.Hour) }
		a := endedChat(t, s, Session{AppID: "shop", Skill: "sales", AgentNo: "ag1", Nickname: "Lena", Name: "Lena Berg", Email: "lena@example.com", EndBy: protocol.EndByAgent}, at(1))
		b := endedChat(t, s, Session{AppID: "shop", Skill: "support", AgentNo: "ag2", Phone: "+47 555 1234", EndBy: protocol.EndByUser}, at(2))
		c := endedChat(t, s, Session{AppID: "blog", UserID: "visitor-c", AgentNo: "ag1", Name: "50%_off Carl", EndBy: protocol.EndByTimeout}, at(3))
		d := endedChat(t, s, Session{AppID: "blog", EndBy: protocol.EndByQueue}, at(4))
		other := endedChat(t, s, Session{Orgi: "org2", AppID: "x", AgentNo: "ag1", Nickname: "Lena"}, at(2))
		if ok, err := s.RateSession(ctx, a.ID, 5, "great", at(1)); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if ok, err := s.RateSession(ctx, b.ID, 2, "", at(2)); !ok || err != nil {
			t.Fatal(ok, err)
		}
		vip := Tag{Orgi: "org1", Name: "VIP"}
		if err := s.CreateTag(ctx, &vip); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSessionTags(ctx, c.ID, []string{vip.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveReview(ctx, QualityReview{SessionID: b.ID, Orgi: "org1", AgentNo: "ag2", ReviewerID: "sup", Score: 80}, []ReviewLine{{Item: "i", Name: "Tone", Weight: 1, Score: 4}}); err != nil {
			t.Fatal(err)
		}
		five, none := 5, 0
		yes, no := true, false
		all := []string{d.ID, c.ID, b.ID, a.ID}
		for _, tc := range []struct {
			name string
			f    ArchiveFilter
			want []string
		}{
			{"all, newest first", ArchiveFilter{}, all},
			{"from", ArchiveFilter{From: at(3)}, []string{d.ID, c.ID}},
			{"to is exclusive", ArchiveFilter{To: at(3)}, []string{b.ID, a.ID}},
			{"site", ArchiveFilter{AppID: "shop"}, []string{b.ID, a.ID}},
			{"skill", ArchiveFilter{Skill: "support"}, []string{b.ID}},
			{"agent", ArchiveFilter{AgentNo: "ag1"}, []string{c.ID, a.ID}},
			{"visitor by userid", ArchiveFilter{Visitor: "visitor-c"}, []string{c.ID}},
			{"visitor by part of a nickname", ArchiveFilter{Visitor: "len"}, []string{a.ID}},
			{"visitor by email", ArchiveFilter{Visitor: "@example.com"}, []string{a.ID}},
			{"visitor by phone", ArchiveFilter{Visitor: "555 12"}, []string{b.ID}},
			{"visitor: % and _ are literal", ArchiveFilter{Visitor: "50%_"}, []string{c.ID}},
			{"visitor: no wildcard", ArchiveFilter{Visitor: "_"}, []string{c.ID}},
			{"tag", ArchiveFilter{Tag: vip.ID}, []string{c.ID}},
			{"rating", ArchiveFilter{Rating: &five}, []string{a.ID}},
			{"not rated", ArchiveFilter{Rating: &none}, []string{d.ID, c.ID}},
			{"end reason", ArchiveFilter{EndBy: protocol.EndByTimeout}, []string{c.ID}},
			{"reviewed", ArchiveFilter{Reviewed: &yes}, []string{b.ID}},
			{"not reviewed", ArchiveFilter{Reviewed: &no}, []string{d.ID, c.ID, a.ID}},
			{"several", ArchiveFilter{AppID: "shop", AgentNo: "ag1", Rating: &five}, []string{a.ID}},
			{"nothing", ArchiveFilter{AppID: "shop", EndBy: protocol.EndByQueue}, nil},
		} {
			tc.f.Orgi = "org1"
			tc.f.Scope = ChatScope{Tenant: true}
			if got := search(t, s, tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
		if got := search(t, s, ArchiveFilter{Orgi: "org2", Scope: ChatScope{Tenant: true}}); !slices.Equal(got, []string{other.ID}) {
			t.Errorf("other tenant: %v", got)
		}
	})
}

func TestSearchArchiveScope(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		at := func(m int) time.Time { return archiveT0.Add(time.Duration(m) * time.Minute) }
		salesByA := endedChat(t, s, Session{Skill: "sales", AgentNo: "a"}, at(1))
		salesByB := endedChat(t, s, Session{Skill: "sales", AgentNo: "b"}, at(2))
		supportByB := endedChat(t, s, Session{Skill: "support", AgentNo: "b"}, at(3))
		noSkillByA := endedChat(t, s, Session{AgentNo: "a"}, at(4))
		unrouted := endedChat(t, s, Session{}, at(5))
		supportUnserved := endedChat(t, s, Session{Skill: "support"}, at(6))
		bySup := endedChat(t, s, Session{Skill: "support", AgentNo: "sup"}, at(7))
		for _, tc := range []struct {
			name  string
			scope ChatScope
			want  []string
		}{
			{"an agent: its own", ChatScope{AgentNo: "a"}, []string{noSkillByA.ID, salesByA.ID}},
			{"a supervisor of sales (a is in sales)", ChatScope{AgentNo: "sup", Skills: []string{"sales"}, Agents: []string{"a"}, Unrouted: true},
				[]string{bySup.ID, unrouted.ID, noSkillByA.ID, salesByB.ID, salesByA.ID}},
			{"a supervisor of support (b is in support)", ChatScope{AgentNo: "sup", Skills: []string{"support"}, Agents: []string{"b"}, Unrouted: true},
				[]string{bySup.ID, supportUnserved.ID, unrouted.ID, supportByB.ID, salesByB.ID}},
			{"admins: the tenant", ChatScope{Tenant: true}, []string{bySup.ID, supportUnserved.ID, unrouted.ID, noSkillByA.ID, supportByB.ID, salesByB.ID, salesByA.ID}},
			{"no one: nothing", ChatScope{}, nil},
		} {
			if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: tc.scope}); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	})
}

func TestSearchArchiveFullText(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		at := func(m int) time.Time { return archiveT0.Add(time.Duration(m) * time.Minute) }
		norway := endedChat(t, s, Session{}, at(1), "Hi, do you ship to Norway?", "Yes, we ship to NORWAY within 2 days.")
		apart := endedChat(t, s, Session{}, at(2), "To be honest I want a refund", "We ship everything from Norway.")
		zh := endedChat(t, s, Session{}, at(3), "你好，我要退货", "好的，请提供订单号")
		zhApart := endedChat(t, s, Session{}, at(4), "我要换货", "退货请联系客服")
		lone := endedChat(t, s, Session{}, at(5), "好 thanks")
		percent := endedChat(t, s, Session{}, at(6), "Is it 50% off?", "user_name is taken")
		endedChat(t, s, Session{}, at(7), "Is it 50 off or 500?", "username or user name") // what % and _ must not match
		fullWidth := endedChat(t, s, Session{}, at(8), "ＳＡＬＥ ends today")
		other := endedChat(t, s, Session{Orgi: "org2"}, at(9), "ship to Norway")
		indexAll(t, s)
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"norway", []string{apart.ID, norway.ID}},       // one word: anywhere in the chat, any case
			{"ship to Norway", []string{norway.ID}},         // a phrase: its words together, in one message
			{"to norway", []string{norway.ID}},              // not "to be ... from Norway"
			{"ship", []string{apart.ID, norway.ID}},         // whole words: not "shipping"
			{"退货", []string{zhApart.ID, zh.ID}},             // a bigram
			{"我要退货", []string{zh.ID}},                       // bigrams together
			{"，我要", []string{zh.ID}},                        // full-width punctuation as typed
			{"好", []string{lone.ID}},                        // one CJK character: only alone
			{"50%", []string{percent.ID}},                   // % is not a wildcard
			{"user_name", []string{percent.ID}},             // nor is _
			{"Ｎｏｒｗａｙ", []string{apart.ID, norway.ID}},       // full-width query
			{"sale", []string{fullWidth.ID}},                // and full-width text
			{"refund", []string{apart.ID}},                  //
			{"nothing like this", nil},                      //
			{"Norway" + string(rune(0x3000)) + "ship", nil}, // ideographic space is a space: words not in this order
		} {
			if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: tc.q}); !slices.Equal(got, tc.want) {
				t.Errorf("q %q: %v, want %v", tc.q, got, tc.want)
			}
		}
		if got := search(t, s, ArchiveFilter{Orgi: "org2", Scope: ChatScope{Tenant: true}, Text: "norway"}); !slices.Equal(got, []string{other.ID}) {
			t.Errorf("other tenant: %v", got)
		}
		// With filters and scope.
		if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: ChatScope{AgentNo: "nobody"}, Text: "norway"}); len(got) != 0 {
			t.Errorf("out of scope: %v", got)
		}
		if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: "norway", From: at(2)}); !slices.Equal(got, []string{apart.ID}) {
			t.Errorf("with a time filter: %v", got)
		}
		if _, err := s.SearchArchive(ctx, ArchiveQuery{ArchiveFilter: ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: "%%"}}); !errors.Is(err, ErrNoTerms) {
			t.Errorf("a query without words: %v, want ErrNoTerms", err)
		}
	})
}

// collect pages through a query limit at a time.
func collect(t *testing.T, s *Store, q ArchiveQuery) (ids []string, pages int) {
	t.Helper()
	for {
		page, err := s.SearchArchive(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Sessions) > q.Limit {
			t.Fatalf("page of %d, limit %d", len(page.Sessions), q.Limit)
		}
		ids = append(ids, sessionIDs(page.Sessions)...)
		if page.Next == nil {
			return ids, pages
		}
		q.Before = page.Next
		if pages > 100 {
			t.Fatal("paging does not end")
		}
	}
}

func TestSearchArchivePaging(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		// 7 chats, several ending at the same moment: the cursor breaks ties by id.
		var want []Session
		for i := range 7 {
			want = append(want, endedChat(t, s, Session{}, archiveT0.Add(time.Duration(i/3)*time.Minute), "order shipped"))
		}
		slices.SortFunc(want, func(a, b Session) int {
			if c := b.EndTime.Compare(*a.EndTime); c != 0 {
				return c
			}
			if a.ID > b.ID {
				return -1
			}
			return 1
		})
		indexAll(t, s)
		for _, text := range []string{"", "order", "order shipped"} {
			ids, pages := collect(t, s, ArchiveQuery{ArchiveFilter: ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: text}, Limit: 3})
			if !slices.Equal(ids, sessionIDs(want)) || pages < 3 {
				t.Errorf("q %q: %d pages %v, want %v", text, pages, ids, sessionIDs(want))
			}
		}
	})
}

// TestSearchArchiveConfirmsInBatches: a phrase whose words are everywhere
// but which only the oldest chats contain is found past the first batch of
// candidates.
func TestSearchArchiveConfirmsInBatches(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		var oldest []string
		for i := range confirmBatch + 20 {
			body := "shipped order"
			if i < 2 {
				body = "order shipped"
			}
			sess := endedChat(t, s, Session{}, archiveT0.Add(time.Duration(i)*time.Second), body)
			if i < 2 {
				oldest = append([]string{sess.ID}, oldest...)
			}
		}
		indexAll(t, s)
		if got := search(t, s, ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: "order shipped"}); !slices.Equal(got, oldest) {
			t.Errorf("found %v, want %v", got, oldest)
		}
		ids, _ := collect(t, s, ArchiveQuery{ArchiveFilter: ArchiveFilter{Orgi: "org1", Scope: ChatScope{Tenant: true}, Text: "order shipped"}, Limit: 1})
		if !slices.Equal(ids, oldest) {
			t.Errorf("paged by one: %v, want %v", ids, oldest)
		}
	})
}

func TestTranscriptMessagesAndTags(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		sess := endedChat(t, s, Session{}, archiveT0, "one", "two", "three")
		ms, more, err := s.TranscriptMessages(ctx, sess.ID, 2)
		if err != nil || !more || !slices.Equal(seqs(ms), []int64{1, 2}) {
			t.Fatalf("first 2: %v more=%v err=%v", seqs(ms), more, err)
		}
		if ms, more, _ = s.TranscriptMessages(ctx, sess.ID, 3); more || len(ms) != 3 {
			t.Fatalf("all 3: %d more=%v", len(ms), more)
		}
		if err := s.SetSessionTags(ctx, sess.ID, []string{"t2", "t1"}); err != nil {
			t.Fatal(err)
		}
		tags, err := s.TagsOf(ctx, []string{sess.ID, "none"})
		if err != nil || len(tags) != 1 || !slices.Equal(tags[sess.ID], []string{"t1", "t2"}) {
			t.Fatalf("tags: %v %v", tags, err)
		}
	})
}
