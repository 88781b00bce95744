package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/redistest"
)

// testPrefix isolates a test's channels from other tests and other runs on
// a shared server.
func testPrefix(t *testing.T) string {
	return fmt.Sprintf("kefutest:%s:%d", t.Name(), rand.Uint64())
}

// awaitSubscriptions waits until each of b's channels has exactly n
// subscribers: one per node, and none left over from a broken connection.
func awaitSubscriptions(t *testing.T, c redis.UniversalClient, b *Redis, n int) {
	t.Helper()
	waitUntil(t, 15*time.Second, fmt.Sprintf("%d subscribers per channel", n), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		counts, err := c.PubSubNumSub(ctx, b.channels...).Result()
		if err != nil {
			return false
		}
		for _, ch := range b.channels {
			if counts[ch] != int64(n) {
				return false
			}
		}
		return true
	})
}

func TestRedisChannelSharding(t *testing.T) {
	b := NewRedis(nil, RedisOptions{})
	if len(b.channels) != 8 || b.channels[0] != "kefu:bc:0" || b.channels[7] != "kefu:bc:7" {
		t.Fatalf("default channels = %v", b.channels)
	}
	b = NewRedis(nil, RedisOptions{Prefix: "p", Shards: 3})
	h := fnv.New32a()
	h.Write([]byte("/im/agent\x00room-1"))
	want := "p:bc:" + strconv.Itoa(int(h.Sum32()%3))
	if got := b.channel("/im/agent", "room-1"); got != want {
		t.Fatalf("channel = %s, want %s", got, want)
	}
	if b.channel("ab", "c") == b.channel("a", "bc") && b.channel("ab", "") == b.channel("a", "b") {
		t.Error("namespace/room boundary does not affect the shard")
	}
}

func TestRedisPublishErrorIsWrapped(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	_ = c.Close()
	err := NewRedis(c, RedisOptions{}).Publish(context.Background(), seqMsg("r", 0, 0))
	if !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Publish on a closed client = %v, want wrapped redis.ErrClosed", err)
	}
	err = NewRedis(c, RedisOptions{}).Publish(context.Background(), Message{Data: json.RawMessage("{")})
	if err == nil {
		t.Fatal("Publish accepted invalid JSON data")
	}
}

func TestRedisTwoNodesEachGetEveryMessageOnceInRoomOrder(t *testing.T) {
	url := redistest.URL(t)
	prefix := testPrefix(t)
	ca, cb := redistest.Client(t, url), redistest.Client(t, url)
	a := NewRedis(ca, RedisOptions{Prefix: prefix, Logger: redistest.Logger(t)})
	b := NewRedis(cb, RedisOptions{Prefix: prefix, Logger: redistest.Logger(t)})
	ra, rb := subscribe(t, a), subscribe(t, b)
	awaitSubscriptions(t, ca, a, 2)

	// Both nodes publish concurrently to several rooms and to the whole
	// namespace (Room "").
	rooms := []string{"", "s1", "s2", "s3", "agent-7"}
	const per = 100
	var wg sync.WaitGroup
	var sent sync.Map // data -> Message
	for p, node := range []*Redis{a, b} {
		wg.Go(func() {
			for i := range per {
				m := seqMsg(rooms[i%len(rooms)], p, i)
				sent.Store(string(m.Data), m)
				if err := node.Publish(context.Background(), m); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	for name, r := range map[string]*recorder{"A": ra, "B": rb} {
		got := r.await(t, 10*time.Second, "every message on node "+name, count(2*per))
		if len(got) != 2*per {
			t.Fatalf("node %s got %d messages, want %d", name, len(got), 2*per)
		}
		seen := map[string]bool{}
		last := map[string]int{} // publisher+room -> last seq
		for _, m := range got {
			want, ok := sent.Load(string(m.Data))
			if !ok {
				t.Fatalf("node %s got unexpected %+v", name, m)
			}
			if fmt.Sprint(want) != fmt.Sprint(m) {
				t.Fatalf("node %s got %+v, sent %+v", name, m, want)
			}
			if seen[string(m.Data)] {
				t.Fatalf("node %s got %s twice", name, m.Data)
			}
			seen[string(m.Data)] = true
			d := decodeSeq(t, m)
			key := strconv.Itoa(d.Pub) + "/" + m.Room
			if prev, ok := last[key]; ok && d.Seq <= prev {
				t.Fatalf("node %s: room %q publisher %d: seq %d after %d", name, m.Room, d.Pub, d.Seq, prev)
			}
			last[key] = d.Seq
		}
	}
}

func TestRedisDropsMalformedPayloads(t *testing.T) {
	url := redistest.URL(t)
	c := redistest.Client(t, url)
	b := NewRedis(c, RedisOptions{Prefix: testPrefix(t), Shards: 1, Logger: redistest.Logger(t)})
	r := subscribe(t, b)
	awaitSubscriptions(t, c, b, 1)

	ctx := context.Background()
	for _, junk := range []string{"", "not json", `{"n":1}`, `[1,2]`} {
		if err := c.Publish(ctx, b.channels[0], junk).Err(); err != nil {
			t.Fatal(err)
		}
	}
	good := seqMsg("r", 0, 1)
	if err := b.Publish(ctx, good); err != nil {
		t.Fatal(err)
	}
	got := r.await(t, 10*time.Second, "the valid message", func(got []Message) bool {
		return len(got) > 0 && string(got[len(got)-1].Data) == string(good.Data)
	})
	if len(got) != 1 {
		t.Fatalf("got %d messages (%+v), want only the valid one", len(got), got)
	}
}

func TestRedisSubscribeSurvivesServerRestart(t *testing.T) {
	srv := redistest.Start(t, ownRedisPorts)
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: time.Second})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	ca, cb := newClient(), newClient()
	a := NewRedis(ca, RedisOptions{Prefix: "kefu", Logger: redistest.Logger(t)})
	b := NewRedis(cb, RedisOptions{Prefix: "kefu", Logger: redistest.Logger(t)})
	ra, rb := subscribe(t, a), subscribe(t, b)
	awaitSubscriptions(t, ca, a, 2)
	nodes := map[string]*recorder{"A": ra, "B": rb}

	ctx := context.Background()
	msg := func(event string, seq int) Message {
		m := seqMsg("session-1", 0, seq)
		m.Event = event
		return m
	}
	if err := a.Publish(ctx, msg("before", 0)); err != nil {
		t.Fatal(err)
	}
	for name, r := range nodes {
		r.await(t, 10*time.Second, "'before' on node "+name, hasEvent("before"))
	}

	srv.Kill()
	if err := a.Publish(ctx, msg("down", 0)); err == nil {
		t.Error("Publish succeeded with the server down")
	}
	started := time.Now()
	if err := srv.Boot(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}

	// Messages published before a node has resubscribed are lost to it, so
	// keep publishing until both nodes hear one.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := 1; !hasEvent("after")(ra.messages()) || !hasEvent("after")(rb.messages()); seq++ {
		if time.Now().After(deadline) {
			t.Fatalf("delivery did not resume within 30s: A=%v B=%v",
				hasEvent("after")(ra.messages()), hasEvent("after")(rb.messages()))
		}
		_ = a.Publish(ctx, msg("after", seq)) // fails until the client reconnects
		<-tick.C
	}
	t.Logf("delivery resumed on both nodes %s after the restart", time.Since(started).Round(time.Millisecond))

	// Exactly one subscription per node, and each message once.
	awaitSubscriptions(t, ca, a, 2)
	if err := a.Publish(ctx, msg("final", 0)); err != nil {
		t.Fatal(err)
	}
	for name, r := range nodes {
		got := r.await(t, 10*time.Second, "'final' on node "+name, hasEvent("final"))
		seen := map[string]bool{}
		prev := -1
		for _, m := range got {
			key := m.Event + string(m.Data)
			if seen[key] {
				t.Fatalf("node %s got %s %s twice", name, m.Event, m.Data)
			}
			seen[key] = true
			if m.Event == "after" {
				d := decodeSeq(t, m)
				if d.Seq <= prev {
					t.Fatalf("node %s: seq %d after %d", name, d.Seq, prev)
				}
				prev = d.Seq
			}
			if m.Event == "down" {
				t.Fatalf("node %s got a message whose Publish failed", name)
			}
		}
	}
}

func hasEvent(event string) func([]Message) bool {
	return func(got []Message) bool {
		for _, m := range got {
			if strings.EqualFold(m.Event, event) {
				return true
			}
		}
		return false
	}
}

func TestRedisSubscribeReplacesUnresponsiveConnection(t *testing.T) {
	srv := redistest.Start(t, ownRedisPorts)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	logs := &logWatch{changed: make(chan struct{}, 1)}
	b := NewRedis(c, RedisOptions{Logger: slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), nil))})
	b.pingEvery = 100 * time.Millisecond
	r := subscribe(t, b)
	awaitSubscriptions(t, c, b, 1)

	// A stopped server keeps its TCP connections open but never answers:
	// what a dead host or a partition looks like. Only PING can tell.
	if err := srv.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = srv.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	logs.await(t, 10*time.Second, "no reply to ping")
	resume()

	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for seq := 0; !hasEvent("message")(r.messages()); seq++ {
		if time.Now().After(deadline) {
			t.Fatal("delivery did not resume within 30s")
		}
		_ = b.Publish(context.Background(), seqMsg("r", 0, seq))
		<-tick.C
	}
	awaitSubscriptions(t, c, b, 1)
}

// logWatch is an io.Writer that lets a test wait for a log line.
type logWatch struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *logWatch) await(t *testing.T, timeout time.Duration, text string) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		found := strings.Contains(w.buf.String(), text)
		w.mu.Unlock()
		if found {
			return
		}
		select {
		case <-w.changed:
		case <-deadline.C:
			t.Fatalf("no log line containing %q after %s", text, timeout)
		}
	}
}
