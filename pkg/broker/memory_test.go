package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recorder collects what a Subscribe call delivers.
type recorder struct {
	mu      sync.Mutex
	got     []Message
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) deliver(m Message) {
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.got...)
}

// await waits until cond holds for what has been delivered, failing the test
// after timeout.
func (r *recorder) await(t *testing.T, timeout time.Duration, what string, cond func([]Message) bool) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		got := r.messages()
		if cond(got) {
			return got
		}
		select {
		case <-r.changed:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s; have %d messages", timeout, what, len(got))
		}
	}
}

// count returns a condition that holds once n messages have arrived.
func count(n int) func([]Message) bool {
	return func(got []Message) bool { return len(got) >= n }
}

// subscribe runs b.Subscribe into a recorder until the test ends, and checks
// that it returned only because its context was cancelled.
func subscribe(t *testing.T, b Broker) *recorder {
	t.Helper()
	r := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Subscribe(ctx, r.deliver) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Subscribe returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Subscribe did not return after its context was cancelled")
		}
	})
	return r
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

func seqMsg(room string, pub, seq int) Message {
	return Message{
		Namespace: "/im/agent",
		Room:      room,
		Except:    "sock-" + strconv.Itoa(pub),
		Event:     "message",
		Data:      json.RawMessage(fmt.Sprintf(`{"pub":%d,"seq":%d}`, pub, seq)),
	}
}

type seqData struct{ Pub, Seq int }

func decodeSeq(t *testing.T, m Message) seqData {
	t.Helper()
	var d seqData
	if err := json.Unmarshal(m.Data, &d); err != nil {
		t.Fatalf("bad data %q: %v", m.Data, err)
	}
	return d
}

func TestMemoryDeliversInPublishOrder(t *testing.T) {
	b := NewMemory()
	r := subscribe(t, b)
	waitUntil(t, 5*time.Second, "subscriber", func() bool { return b.subscribers() == 1 })

	const n = 1000
	ctx := context.Background()
	for i := range n {
		// Vary the room: the in-process broker keeps one total order.
		if err := b.Publish(ctx, seqMsg("room"+strconv.Itoa(i%7), 0, i)); err != nil {
			t.Fatal(err)
		}
	}
	got := r.await(t, 5*time.Second, "all messages", count(n))
	if len(got) != n {
		t.Fatalf("got %d messages, want %d", len(got), n)
	}
	for i, m := range got {
		if d := decodeSeq(t, m); d.Seq != i {
			t.Fatalf("message %d has seq %d", i, d.Seq)
		}
		if want := seqMsg("room"+strconv.Itoa(i%7), 0, i); m.Room != want.Room || m.Except != want.Except || m.Namespace != want.Namespace {
			t.Fatalf("message %d = %+v, want %+v", i, m, want)
		}
	}
}

func TestMemoryEverySubscriberGetsEveryMessageOnce(t *testing.T) {
	b := NewMemory()
	recs := []*recorder{subscribe(t, b), subscribe(t, b), subscribe(t, b)}
	waitUntil(t, 5*time.Second, "subscribers", func() bool { return b.subscribers() == len(recs) })

	const pubs, per = 4, 250
	var wg sync.WaitGroup
	for p := range pubs {
		wg.Go(func() {
			for i := range per {
				if err := b.Publish(context.Background(), seqMsg("r", p, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	var first []Message
	for ri, r := range recs {
		got := r.await(t, 5*time.Second, "all messages", count(pubs*per))
		if len(got) != pubs*per {
			t.Fatalf("subscriber %d got %d messages, want %d", ri, len(got), pubs*per)
		}
		next := make([]int, pubs) // next seq expected from each publisher
		for _, m := range got {
			d := decodeSeq(t, m)
			if d.Seq != next[d.Pub] {
				t.Fatalf("subscriber %d: publisher %d seq %d, want %d (lost, duplicated or reordered)", ri, d.Pub, d.Seq, next[d.Pub])
			}
			next[d.Pub]++
		}
		// Concurrent publishers are serialised once for everybody.
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if string(got[i].Data) != string(first[i].Data) {
				t.Fatalf("subscriber %d saw a different interleaving at %d", ri, i)
			}
		}
	}
}

func TestMemorySlowSubscriberBlocksNobody(t *testing.T) {
	b := NewMemory()
	release := make(chan struct{})
	slow := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slowDone := make(chan error, 1)
	go func() {
		slowDone <- b.Subscribe(ctx, func(m Message) {
			<-release // breaks the contract: blocks
			slow.deliver(m)
		})
	}()
	fast := subscribe(t, b)
	waitUntil(t, 5*time.Second, "subscribers", func() bool { return b.subscribers() == 2 })

	const n = 10000
	published := make(chan error, 1)
	go func() {
		for i := range n {
			if err := b.Publish(context.Background(), seqMsg("r", 0, i)); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	select {
	case err := <-published:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked behind a stuck subscriber")
	}
	fast.await(t, 10*time.Second, "fast subscriber to get everything", count(n))
	if got := len(slow.messages()); got != 0 {
		t.Fatalf("stuck subscriber delivered %d", got)
	}

	close(release)
	got := slow.await(t, 10*time.Second, "slow subscriber to catch up", count(n))
	for i, m := range got {
		if d := decodeSeq(t, m); d.Seq != i {
			t.Fatalf("slow subscriber: message %d has seq %d", i, d.Seq)
		}
	}
	cancel()
	if err := <-slowDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v", err)
	}
}

func TestMemorySubscribeStopsWithContext(t *testing.T) {
	b := NewMemory()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Subscribe(ctx, func(Message) {}) }()
	waitUntil(t, 5*time.Second, "subscriber", func() bool { return b.subscribers() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v, want context.Canceled", err)
	}
	if n := b.subscribers(); n != 0 {
		t.Fatalf("%d subscribers left after cancel", n)
	}
	// Publishing to nobody is fine.
	if err := b.Publish(context.Background(), seqMsg("r", 0, 0)); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryPublishRejects(t *testing.T) {
	b := NewMemory()
	bad := Message{Namespace: "/im/user", Event: "x", Data: json.RawMessage(`{"unterminated`)}
	if err := b.Publish(context.Background(), bad); err == nil {
		t.Error("Publish accepted invalid JSON data")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Publish(ctx, seqMsg("r", 0, 0)); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with ended context = %v", err)
	}
}
