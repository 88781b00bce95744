package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeInsert stands in for the database: it records batch sizes, can hold
// the first batch until released, and fails any batch containing a message
// whose Body is "bad".
type fakeInsert struct {
	mu      sync.Mutex
	sizes   []int
	hold    chan struct{}
	entered chan struct{}
}

func newFakeInsert() *fakeInsert {
	return &fakeInsert{hold: make(chan struct{}), entered: make(chan struct{}, 1)}
}

func (f *fakeInsert) insert(_ context.Context, msgs []Message) ([]Message, error) {
	f.mu.Lock()
	f.sizes = append(f.sizes, len(msgs))
	first := len(f.sizes) == 1
	f.mu.Unlock()
	if first {
		f.entered <- struct{}{}
		<-f.hold
	}
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		if m.Body == "bad" {
			return nil, ErrNotFound
		}
		m.Seq = int64(i + 1)
		out[i] = m
	}
	return out, nil
}

func (f *fakeInsert) batchSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sizes)
}

func (a *appender) queued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue)
}

func awaitQueued(t *testing.T, a *appender, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.queued() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", a.queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type appendOutcome struct {
	body string
	m    Message
	err  error
}

// startAppends holds the writer in a first batch, queues bodies behind it,
// releases it, and returns every outcome (the first one's included).
func startAppends(t *testing.T, a *appender, f *fakeInsert, ctx context.Context, bodies ...string) chan appendOutcome {
	t.Helper()
	out := make(chan appendOutcome, len(bodies)+1)
	run := func(ctx context.Context, body string) {
		m, err := a.append(ctx, Message{Body: body}, f.insert)
		out <- appendOutcome{body, m, err}
	}
	go run(context.Background(), "first")
	<-f.entered
	for _, b := range bodies {
		go run(ctx, b)
	}
	awaitQueued(t, a, len(bodies))
	return out
}

func TestAppenderStoresConcurrentAppendsInOneBatch(t *testing.T) {
	var a appender
	f := newFakeInsert()
	out := startAppends(t, &a, f, context.Background(), "a", "b", "c", "d")
	close(f.hold)
	for range 5 {
		if o := <-out; o.err != nil || o.m.Body != o.body {
			t.Fatalf("append %q = %+v, %v", o.body, o.m, o.err)
		}
	}
	a.wait()
	if got := f.batchSizes(); !slices.Equal(got, []int{1, 4}) {
		t.Fatalf("batch sizes %v, want [1 4]", got)
	}
}

func TestAppenderStoresAFailedBatchOneByOne(t *testing.T) {
	var a appender
	f := newFakeInsert()
	out := startAppends(t, &a, f, context.Background(), "a", "bad", "c")
	close(f.hold)
	for range 4 {
		o := <-out
		if o.body == "bad" {
			if !errors.Is(o.err, ErrNotFound) {
				t.Errorf("bad append = %v, want its own error", o.err)
			}
		} else if o.err != nil || o.m.Body != o.body {
			t.Errorf("append %q = %+v, %v", o.body, o.m, o.err)
		}
	}
	a.wait()
	if got := f.batchSizes(); !slices.Equal(got, []int{1, 3, 1, 1, 1}) {
		t.Fatalf("batch sizes %v, want [1 3 1 1 1]", got)
	}
}

func TestAppenderDropsAppendsAbandonedWhileQueued(t *testing.T) {
	var a appender
	f := newFakeInsert()
	ctx, cancel := context.WithCancel(context.Background())
	out := startAppends(t, &a, f, ctx, "gone")
	cancel()
	if o := <-out; o.body != "gone" || !errors.Is(o.err, context.Canceled) {
		t.Fatalf("abandoned append = %+v", o)
	}
	close(f.hold)
	if o := <-out; o.err != nil {
		t.Fatal(o.err)
	}
	a.wait()
	if got := f.batchSizes(); !slices.Equal(got, []int{1}) {
		t.Fatalf("batch sizes %v: the abandoned append was stored", got)
	}
}

func TestInsertMessagesBatchTakesSeqsPerSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, d *testDB) {
		s := d.migrated(t)
		s1 := newTestSession(t, s, "org1", "app1", "v1")
		s2 := newTestSession(t, s, "org1", "app1", "v2")
		appendN(t, s, s2.ID, 2)
		msg := func(sess Session, callType, clientID string) Message {
			m := *textMessage(sess.ID, clientID, clientID)
			m.CallType, m.Orgi, m.AppID, m.USession = callType, sess.Orgi, sess.AppID, sess.UserID
			return m
		}
		batch := []Message{msg(s1, "in", "a"), msg(s2, "out", "b"), msg(s1, "out", "c"), msg(s1, "in", "d")}
		rows, err := s.insertMessages(t.Context(), batch)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(rows))
		for i, r := range rows {
			got[i] = fmt.Sprintf("%s:%d", r.ClientID, r.Seq)
		}
		if want := []string{"a:1", "b:3", "c:2", "d:3"}; !slices.Equal(got, want) {
			t.Fatalf("seqs %v, want %v", got, want)
		}
		after, err := s.GetSession(t.Context(), s1.ID)
		if err != nil || after.LastSeq != 3 {
			t.Fatalf("session 1 last_seq %d (%v), want 3", after.LastSeq, err)
		}
		if after.LastVisitorAt == nil || after.LastAgentAt == nil {
			t.Errorf("session 1 activity not stamped: visitor %v agent %v", after.LastVisitorAt, after.LastAgentAt)
		}

		// One missing session fails the whole batch: nothing is stored and
		// no seq is taken.
		gone := Session{ID: "no-such-session", Orgi: "org1", AppID: "app1", UserID: "v3"}
		if _, err := s.insertMessages(t.Context(), []Message{msg(s1, "in", "e"), msg(gone, "in", "f")}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("batch with a missing session = %v, want ErrNotFound", err)
		}
		if after, _ := s.GetSession(t.Context(), s1.ID); after.LastSeq != 3 {
			t.Fatalf("failed batch left last_seq at %d", after.LastSeq)
		}
		list, err := s.ListMessages(t.Context(), s1.ID, 0, 0, 0)
		if err != nil || len(list) != 3 {
			t.Fatalf("session 1 has %d messages (%v), want 3", len(list), err)
		}
	})
}
