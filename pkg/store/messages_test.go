package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestSession creates a queued session of visitor appid/userid in orgi.
func newTestSession(t *testing.T, s *Store, orgi, appid, userid string) Session {
	t.Helper()
	sess := Session{Orgi: orgi, AppID: appid, UserID: userid}
	if err := s.CreateSession(t.Context(), &sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess
}

func textMessage(sessionID, clientID, body string) *Message {
	return &Message{
		SessionID: sessionID, ClientID: clientID, Type: "message", MsgType: "text",
		CallType: "in", Body: body, UserID: "visitor",
	}
}

func appendN(t *testing.T, s *Store, sessionID string, n int) []Message {
	t.Helper()
	out := make([]Message, n)
	for i := range n {
		m, dup, err := s.AppendMessage(t.Context(), textMessage(sessionID, fmt.Sprintf("c%d", i+1), fmt.Sprintf("m%d", i+1)))
		if err != nil || dup {
			t.Fatalf("AppendMessage #%d: dup=%v err=%v", i+1, dup, err)
		}
		out[i] = m
	}
	return out
}

func seqs(ms []Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestAppendMessageStoresRow(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		sess := newTestSession(t, s, "org1", "app1", "visitor1")
		// The caller's identity fields are wrong on purpose: the session's win.
		in := textMessage(sess.ID, "client-1", "héllo 你好 😀")
		in.Orgi, in.AppID, in.USession = "other-org", "other-app", "other-visitor"
		in.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		before := time.Now().UTC().Truncate(time.Millisecond)
		m, dup, err := s.AppendMessage(ctx, in)
		if err != nil || dup {
			t.Fatalf("AppendMessage: dup=%v err=%v", dup, err)
		}
		if in.ID != "" || in.Seq != 0 || in.Orgi != "other-org" {
			t.Errorf("AppendMessage modified its argument: %+v", in)
		}
		if m.Seq != 1 || len(m.ID) != 32 || m.PK == 0 {
			t.Errorf("stored seq=%d id=%q pk=%d, want seq 1, a 32-char id and a pk", m.Seq, m.ID, m.PK)
		}
		if m.Orgi != "org1" || m.AppID != "app1" || m.USession != "visitor1" {
			t.Errorf("stored orgi/appid/usession = %s/%s/%s, want the session's org1/app1/visitor1", m.Orgi, m.AppID, m.USession)
		}
		if m.CreatedAt.Location() != time.UTC || m.CreatedAt.Before(before) || m.CreatedAt.After(time.Now()) ||
			!m.CreatedAt.Equal(m.CreatedAt.Truncate(time.Millisecond)) {
			t.Errorf("CreatedAt = %v, want now in UTC, whole milliseconds", m.CreatedAt)
		}

		got, err := s.GetMessage(ctx, m.ID)
		if err != nil {
			t.Fatalf("GetMessage: %v", err)
		}
		if got != m {
			t.Errorf("GetMessage = %+v\nwant        %+v", got, m)
		}
		sess, err = s.GetSession(ctx, sess.ID)
		if err != nil || sess.LastSeq != 1 {
			t.Errorf("session last_seq = %d (%v), want 1", sess.LastSeq, err)
		}
	})
}

func TestAppendMessageConcurrentSeqs(t *testing.T) {
	const senders, perSender = 20, 25
	eachBackend(t, func(t *testing.T, d *testDB) {
		s := d.migrated(t)
		sess := newTestSession(t, s, "org1", "app1", "visitor1")
		// A Store per sender: separate pools, as separate gateway processes.
		stores := make([]*Store, senders)
		for i := range stores {
			stores[i] = d.open(t)
		}
		got := make([][]int64, senders)
		parallel(senders, func(i int) {
			for j := range perSender {
				m, dup, err := stores[i].AppendMessage(t.Context(), textMessage(sess.ID, fmt.Sprintf("s%d-%d", i, j), "x"))
				if err != nil || dup {
					t.Errorf("sender %d message %d: dup=%v err=%v", i, j, dup, err)
					return
				}
				got[i] = append(got[i], m.Seq)
			}
		})
		if t.Failed() {
			return
		}
		var all []int64
		for i, g := range got {
			// One sender's messages are sequential, so its seqs must rise.
			if !slices.IsSorted(g) {
				t.Errorf("sender %d got seqs out of order: %v", i, g)
			}
			all = append(all, g...)
		}
		slices.Sort(all)
		if want := seqRange(1, senders*perSender); !slices.Equal(all, want) {
			t.Fatalf("acknowledged seqs are not exactly 1..%d: %v", senders*perSender, all)
		}

		// Scroll back from the newest page to the first.
		var stored []Message
		for before := int64(0); ; {
			page, err := s.ListMessages(t.Context(), sess.ID, Latest, before, 200)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			stored = append(page, stored...)
			before = page[0].Seq
		}
		if want := seqRange(1, senders*perSender); !slices.Equal(seqs(stored), want) {
			t.Fatalf("stored seqs are not exactly 1..%d: %v", senders*perSender, seqs(stored))
		}
		sess, err := s.GetSession(t.Context(), sess.ID)
		if err != nil || sess.LastSeq != senders*perSender {
			t.Errorf("session last_seq = %d (%v), want %d", sess.LastSeq, err, senders*perSender)
		}
	})
}

func TestAppendMessageResendIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		sess := newTestSession(t, s, "org1", "app1", "visitor1")
		other := newTestSession(t, s, "org1", "app1", "visitor2")

		first, dup, err := s.AppendMessage(ctx, textMessage(sess.ID, "c1", "hello"))
		if err != nil || dup {
			t.Fatalf("first send: dup=%v err=%v", dup, err)
		}
		again, dup, err := s.AppendMessage(ctx, textMessage(sess.ID, "c1", "hello, edited"))
		if err != nil || !dup {
			t.Fatalf("resend: dup=%v err=%v, want duplicate", dup, err)
		}
		if again != first {
			t.Errorf("resend returned %+v\nwant the first copy %+v", again, first)
		}
		// The same clientid in another session is another message.
		o, dup, err := s.AppendMessage(ctx, textMessage(other.ID, "c1", "hi"))
		if err != nil || dup || o.Seq != 1 {
			t.Errorf("same clientid in another session: seq=%d dup=%v err=%v, want a new message with seq 1", o.Seq, dup, err)
		}
		next, _, err := s.AppendMessage(ctx, textMessage(sess.ID, "c2", "next"))
		if err != nil || next.Seq != 2 {
			t.Errorf("after a resend the next message got seq %d (%v), want 2: a resend must not use up a seq", next.Seq, err)
		}
		ms, err := s.ListMessages(ctx, sess.ID, 0, 0, 0)
		if err != nil || len(ms) != 2 || ms[0].Body != "hello" {
			t.Errorf("session holds %d messages (%v), first %q; want 2, first \"hello\"", len(ms), err, ms[0].Body)
		}
	})
}

func TestAppendMessageConcurrentResends(t *testing.T) {
	const senders, rounds = 8, 5
	eachBackend(t, func(t *testing.T, d *testDB) {
		s := d.migrated(t)
		sess := newTestSession(t, s, "org1", "app1", "visitor1")
		stores := make([]*Store, senders)
		for i := range stores {
			stores[i] = d.open(t)
		}
		for r := range rounds {
			clientID := fmt.Sprintf("retry-%d", r)
			var (
				mu     sync.Mutex
				ids    = map[string]bool{}
				fresh  int
				seqSet = map[int64]bool{}
			)
			parallel(senders, func(i int) {
				m, dup, err := stores[i].AppendMessage(t.Context(), textMessage(sess.ID, clientID, "same"))
				if err != nil {
					t.Errorf("round %d sender %d: %v", r, i, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[m.ID], seqSet[m.Seq] = true, true
				if !dup {
					fresh++
				}
			})
			if fresh != 1 || len(ids) != 1 || len(seqSet) != 1 || !seqSet[int64(r+1)] {
				t.Fatalf("round %d: %d stored as new, ids %v, seqs %v; want exactly one new message with seq %d",
					r, fresh, ids, seqSet, r+1)
			}
		}
		ms, err := s.ListMessages(t.Context(), sess.ID, 0, 0, 0)
		if err != nil || !slices.Equal(seqs(ms), seqRange(1, rounds)) {
			t.Errorf("stored seqs %v (%v), want 1..%d", seqs(ms), err, rounds)
		}
		got, err := s.GetSession(t.Context(), sess.ID)
		if err != nil || got.LastSeq != rounds {
			t.Errorf("last_seq = %d (%v), want %d: rolled-back resends must not leave gaps", got.LastSeq, err, rounds)
		}
	})
}

func TestAppendMessageServerNotes(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		sess := newTestSession(t, s, "org1", "app1", "visitor1")
		note := &Message{SessionID: sess.ID, Type: "message", MsgType: "text", CallType: "system", Body: "queued"}
		a, dupA, errA := s.AppendMessage(t.Context(), note)
		b, dupB, errB := s.AppendMessage(t.Context(), note)
		if errA != nil || errB != nil || dupA || dupB {
			t.Fatalf("server notes: %v %v dup %v %v", errA, errB, dupA, dupB)
		}
		if a.ClientID == "" || a.ClientID == b.ClientID || !strings.HasPrefix(a.ClientID, serverClientIDPrefix) {
			t.Errorf("generated clientids %q and %q: want distinct, non-empty, prefixed %q", a.ClientID, b.ClientID, serverClientIDPrefix)
		}
		if a.Seq != 1 || b.Seq != 2 {
			t.Errorf("seqs %d, %d; want 1, 2", a.Seq, b.Seq)
		}
	})
}

func TestAppendMessageAfterEndIsStored(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		sess := newTestSession(t, s, "org1", "app1", "visitor1")
		if _, _, err := s.EndSession(t.Context(), sess.ID, "visitor", time.Now()); err != nil {
			t.Fatal(err)
		}
		// The "session ended" system note is written after the end.
		m, _, err := s.AppendMessage(t.Context(), &Message{SessionID: sess.ID, CallType: "system", Body: "ended"})
		if err != nil || m.Seq != 1 {
			t.Errorf("note after end: seq %d err %v", m.Seq, err)
		}
	})
}

func TestListMessagesPaging(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		sess := newTestSession(t, s, "org1", "app1", "visitor1")
		other := newTestSession(t, s, "org1", "app1", "visitor2")
		appendN(t, s, sess.ID, 205)
		appendN(t, s, other.ID, 3)

		cases := []struct {
			name          string
			after, before int64
			limit         int
			want          []int64
		}{
			{"after", 3, 0, 4, seqRange(4, 7)},
			{"after near the end", 203, 0, 10, seqRange(204, 205)},
			{"after the end", 205, 0, 10, nil},
			{"before", Latest, 8, 3, seqRange(5, 7)},
			{"before near the start", Latest, 3, 10, seqRange(1, 2)},
			{"before the start", Latest, 1, 10, nil},
			{"latest", Latest, 0, 3, seqRange(203, 205)},
			{"default limit", Latest, 0, 0, seqRange(156, 205)},
			{"negative limit", Latest, 0, -1, seqRange(156, 205)},
			{"limit clamped", Latest, 0, 1000, seqRange(6, 205)},
			{"after clamped", 1, 0, 1000, seqRange(2, 201)},
			{"between", 10, 14, 100, seqRange(11, 13)},
			{"between, limited", 10, 100, 2, seqRange(11, 12)},
			{"from the start", 0, 0, 3, seqRange(1, 3)},
		}
		for _, c := range cases {
			got, err := s.ListMessages(ctx, sess.ID, c.after, c.before, c.limit)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !slices.Equal(seqs(got), c.want) {
				t.Errorf("%s: ListMessages(after=%d, before=%d, limit=%d) seqs = %v, want %v",
					c.name, c.after, c.before, c.limit, seqs(got), c.want)
			}
			for _, m := range got {
				if m.SessionID != sess.ID {
					t.Fatalf("%s: message of session %s leaked in", c.name, m.SessionID)
				}
			}
		}
		got, err := s.ListMessages(ctx, "no-such-session", 0, 0, 10)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("unknown session: %v, %v; want an empty, non-nil list", got, err)
		}
	})
}

func TestListVisitorMessages(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		// Visitor v1 has two sessions on app1; v1 on app2 and v2 on app1 are
		// other people and must never show up.
		s1 := newTestSession(t, s, "org1", "app1", "v1")
		mine := appendN(t, s, s1.ID, 3)
		noise := newTestSession(t, s, "org1", "app1", "v2")
		appendN(t, s, noise.ID, 2)
		otherSite := newTestSession(t, s, "org1", "app2", "v1")
		appendN(t, s, otherSite.ID, 2)
		if _, _, err := s.EndSession(ctx, s1.ID, "visitor", time.Now()); err != nil {
			t.Fatal(err)
		}
		s2 := newTestSession(t, s, "org1", "app1", "v1")
		mine = append(mine, appendN(t, s, s2.ID, 4)...)
		ids := func(ms []Message) []string {
			out := make([]string, len(ms))
			for i, m := range ms {
				out[i] = m.ID
			}
			return out
		}

		got, err := s.ListVisitorMessages(ctx, "app1", "v1", "", 0)
		if err != nil || !slices.Equal(ids(got), ids(mine)) {
			t.Fatalf("all history: %v (%v), want %v", ids(got), err, ids(mine))
		}
		got, err = s.ListVisitorMessages(ctx, "app1", "v1", "", 3)
		if err != nil || !slices.Equal(ids(got), ids(mine[4:])) {
			t.Errorf("newest 3: %v (%v), want %v", ids(got), err, ids(mine[4:]))
		}
		// Scrolling back across the session boundary.
		got, err = s.ListVisitorMessages(ctx, "app1", "v1", mine[4].ID, 3)
		if err != nil || !slices.Equal(ids(got), ids(mine[1:4])) {
			t.Errorf("3 before #4: %v (%v), want %v", ids(got), err, ids(mine[1:4]))
		}
		got, err = s.ListVisitorMessages(ctx, "app1", "v1", mine[0].ID, 3)
		if err != nil || len(got) != 0 {
			t.Errorf("before the first: %v (%v), want none", ids(got), err)
		}
		// Another visitor's message is not a valid cursor.
		theirs, _ := s.ListMessages(ctx, noise.ID, 0, 0, 1)
		if _, err := s.ListVisitorMessages(ctx, "app1", "v1", theirs[0].ID, 3); !errors.Is(err, ErrNotFound) {
			t.Errorf("cursor from another visitor: err = %v, want ErrNotFound", err)
		}
	})
}
