package command

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/redistest"
)

// testQueue returns options for a stream of the test's own on a shared
// server, deleted when the test ends.
func testQueue(t *testing.T, c redis.UniversalClient) RedisOptions {
	stream := fmt.Sprintf("kefutest:%s:%d", t.Name(), rand.Uint64())
	t.Cleanup(func() { _ = c.Del(context.Background(), stream).Err() })
	return RedisOptions{
		Stream:    stream,
		Consumer:  "test",
		ClaimIdle: time.Minute,
		Block:     100 * time.Millisecond,
		Logger:    redistest.Logger(t),
	}
}

func with(o RedisOptions, consumer string, claimIdle time.Duration) RedisOptions {
	o.Consumer = consumer
	o.ClaimIdle = claimIdle
	return o
}

func sendAll(t *testing.T, s Sender, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := s.Send(context.Background(), cmd(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// pending returns the number of entries read but not acknowledged in o's
// group.
func pending(t *testing.T, c redis.UniversalClient, o RedisOptions) int64 {
	t.Helper()
	p, err := c.XPending(context.Background(), o.Stream, o.Group).Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}

func awaitPending(t *testing.T, c redis.UniversalClient, o RedisOptions, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		p := pending(t, c, o)
		if p == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries pending, want %d", p, n)
		}
		<-tick.C
	}
}

func recordAll(calls *callLog) func(context.Context, Command) error {
	return func(_ context.Context, c Command) error {
		calls.add(c.ID)
		return nil
	}
}

func TestRedisConsumesInOrderOnceAndAcks(t *testing.T) {
	c := redistest.Client(t, redistest.URL(t))
	o := testQueue(t, c)
	q := NewRedis(c, o)
	o = q.opts // with defaults filled in

	// Commands sent before the group exists must not be skipped.
	sendAll(t, q, 0, 50)
	calls := newCallLog()
	stop := consume(t, q, recordAll(calls))
	sendAll(t, q, 50, 100)

	got := calls.await(t, 10*time.Second, "100 commands", atLeast(100))
	if !equal(got, ids(0, 100)) {
		t.Fatalf("handled %v", got)
	}
	awaitPending(t, c, o, 0)

	start := time.Now()
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume returned %v", err)
	}
	t.Logf("Consume returned %s after cancel (Block %s)", time.Since(start).Round(time.Millisecond), o.Block)

	// The payload survives the round trip.
	back := make(chan Command, 1)
	consume(t, q, func(_ context.Context, c Command) error {
		back <- c
		return nil
	})
	sendAll(t, q, 100, 101)
	select {
	case got := <-back:
		if want := cmd(100); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("round trip: got %+v, want %+v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command 100 not handled")
	}
}

func TestRedisDeadConsumersCommandsAreClaimed(t *testing.T) {
	c := redistest.Client(t, redistest.URL(t))
	base := testQueue(t, c)
	const claimIdle = 300 * time.Millisecond
	a := NewRedis(c, with(base, "node-a-1", claimIdle))
	sendAll(t, a, 0, 10)

	// A reads the whole batch, handles c0..c3 and dies handling c4: the
	// batch stays unacknowledged, and the next consumer gets all of it.
	aCalls := newCallLog()
	stopA := consume(t, a, func(ctx context.Context, c Command) error {
		aCalls.add(c.ID)
		if c.ID == "c4" {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	aCalls.await(t, 10*time.Second, "A to reach c4", contains("c4"))
	awaitPending(t, c, a.opts, 10) // read by A, not acknowledged
	if err := stopA(); !errors.Is(err, context.Canceled) {
		t.Fatalf("A: Consume returned %v", err)
	}

	bCalls := newCallLog()
	start := time.Now()
	b := NewRedis(c, with(base, "node-b-1", claimIdle))
	consume(t, b, recordAll(bCalls))
	got := bCalls.await(t, 10*time.Second, "B to claim c0..c9", atLeast(10))
	t.Logf("B had A's commands %s after starting (ClaimIdle %s)", time.Since(start).Round(time.Millisecond), claimIdle)
	if !equal(got, ids(0, 10)) {
		t.Fatalf("B handled %v, want %v", got, ids(0, 10))
	}
	awaitPending(t, c, a.opts, 0)

	// B carries on with new commands, once each.
	sendAll(t, a, 10, 12)
	got = bCalls.await(t, 10*time.Second, "new commands", atLeast(12))
	if !equal(got, ids(0, 12)) {
		t.Fatalf("B handled %v", got)
	}
}

func TestRedisSlowHandlerKeepsItsCommands(t *testing.T) {
	c := redistest.Client(t, redistest.URL(t))
	base := testQueue(t, c)
	const claimIdle = 200 * time.Millisecond
	a := NewRedis(c, with(base, "slow", claimIdle))
	sendAll(t, a, 0, 3)

	release := make(chan struct{})
	aCalls := newCallLog()
	consume(t, a, func(ctx context.Context, c Command) error {
		aCalls.add(c.ID)
		if c.ID == "c0" {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	aCalls.await(t, 10*time.Second, "A to start c0", contains("c0"))

	bCalls := newCallLog()
	consume(t, NewRedis(c, with(base, "other", claimIdle)), recordAll(bCalls))
	// An observation window, not synchronisation: A holds c0..c2 for many
	// times ClaimIdle, and B must not take them over meanwhile.
	time.Sleep(6 * claimIdle)
	if got := bCalls.get(); len(got) != 0 {
		t.Fatalf("B took over a live consumer's commands: %v", got)
	}
	close(release)
	got := aCalls.await(t, 10*time.Second, "A to finish", atLeast(3))
	if !equal(got, ids(0, 3)) {
		t.Fatalf("A handled %v", got)
	}
	awaitPending(t, c, a.opts, 0)
	if got := bCalls.get(); len(got) != 0 {
		t.Fatalf("B handled %v", got)
	}
}

func TestRedisRestartedConsumerResumesItsOwnPending(t *testing.T) {
	c := redistest.Client(t, redistest.URL(t))
	o := testQueue(t, c) // ClaimIdle one minute: only the own-pending scan can find them
	q := NewRedis(c, o)
	sendAll(t, q, 0, 5)

	first := newCallLog()
	stop := consume(t, q, func(ctx context.Context, c Command) error {
		first.add(c.ID)
		if c.ID == "c2" {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	first.await(t, 10*time.Second, "c2 in progress", contains("c2"))
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Consume returned %v", err)
	}

	again := newCallLog()
	consume(t, q, recordAll(again)) // same consumer name
	got := again.await(t, 10*time.Second, "the unacknowledged batch", atLeast(5))
	if !equal(got, ids(0, 5)) {
		t.Fatalf("handled %v, want %v", got, ids(0, 5))
	}
	awaitPending(t, c, q.opts, 0)
}

func TestRedisRetriesFailedCommandInPlace(t *testing.T) {
	c := redistest.Client(t, redistest.URL(t))
	q := NewRedis(c, testQueue(t, c))
	sendAll(t, q, 0, 4)
	calls := newCallLog()
	failures := 2
	consume(t, q, func(_ context.Context, c Command) error {
		calls.add(c.ID)
		if c.ID == "c1" && failures > 0 {
			failures--
			return errors.New("store unavailable")
		}
		return nil
	})
	got := calls.await(t, 10*time.Second, "all", contains("c3"))
	// The batch is retried whole: handlers are idempotent.
	if want := []string{"c0", "c1", "c0", "c1", "c0", "c1", "c2", "c3"}; !equal(got, want) {
		t.Fatalf("calls = %v, want %v", got, want)
	}
	awaitPending(t, c, q.opts, 0)
}

func TestRedisSkipsMalformedEntries(t *testing.T) {
	c := redistest.Client(t, redistest.URL(t))
	q := NewRedis(c, testQueue(t, c))
	ctx := context.Background()
	for _, values := range [][]any{{payloadField, "not json"}, {"other", "x"}} {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: q.opts.Stream, Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	sendAll(t, q, 0, 1)
	calls := newCallLog()
	consume(t, q, recordAll(calls))
	if got := calls.await(t, 10*time.Second, "c0", contains("c0")); !equal(got, ids(0, 1)) {
		t.Fatalf("handled %v", got)
	}
	awaitPending(t, c, q.opts, 0)
}

func TestRedisRecreatesDeletedStream(t *testing.T) {
	c := redistest.Client(t, redistest.URL(t))
	q := NewRedis(c, testQueue(t, c))
	calls := newCallLog()
	consume(t, q, recordAll(calls))
	sendAll(t, q, 0, 1)
	calls.await(t, 10*time.Second, "c0", contains("c0"))

	// What a Redis restart without persistence looks like to the consumer.
	if err := c.Del(context.Background(), q.opts.Stream).Err(); err != nil {
		t.Fatal(err)
	}
	sendAll(t, q, 1, 3) // recreates the stream, without the group
	got := calls.await(t, 15*time.Second, "commands sent after the stream was lost", contains("c2"))
	if !equal(got, ids(0, 3)) {
		t.Fatalf("handled %v", got)
	}
}

func TestRedisConsumeNeedsConsumerName(t *testing.T) {
	q := NewRedis(nil, RedisOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := q.Consume(ctx, each(recordAll(newCallLog()))); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Consume without a consumer name = %v", err)
	}
	if err := q.Send(ctx, Command{Kind: VisitorLeft}); err == nil {
		t.Fatal("Send accepted a command without ID")
	}
}

func TestRedisSendErrorIsWrapped(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	_ = c.Close()
	if err := NewRedis(c, RedisOptions{}).Send(context.Background(), cmd(1)); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Send on a closed client = %v, want wrapped redis.ErrClosed", err)
	}
}

func TestRedisConsumerSurvivesServerRestart(t *testing.T) {
	srv := redistest.Start(t, ownRedisPorts)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	q := NewRedis(c, RedisOptions{
		Consumer: "node-1-1234",
		Block:    200 * time.Millisecond,
		Logger:   redistest.Logger(t),
	})

	calls := newCallLog()
	consume(t, q, recordAll(calls))
	sendAll(t, q, 0, 1)
	calls.await(t, 10*time.Second, "c0 before the restart", contains("c0"))

	srv.Kill()
	if err := q.Send(context.Background(), cmd(99)); err == nil {
		t.Error("Send succeeded with the server down")
	}
	if err := srv.Boot(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	started := time.Now()

	// Send until the client has reconnected; the consumer must then find
	// the group gone, recreate it and handle what was sent.
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for q.Send(context.Background(), cmd(1)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Send kept failing for 30s after the restart")
		}
		<-tick.C
	}
	sendAll(t, q, 2, 4)
	got := calls.await(t, 30*time.Second, "commands sent after the restart", contains("c3"))
	t.Logf("consumed after restart within %s", time.Since(started).Round(time.Millisecond))
	if !equal(got, []string{"c0", "c1", "c2", "c3"}) {
		t.Fatalf("handled %v", got)
	}
	awaitPending(t, c, q.opts, 0)
}
