package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/redistest"
)

// pipelineGate is a go-redis hook that records the size of every pipeline
// of publishes and can hold them back until the test releases them.
type pipelineGate struct {
	mu      sync.Mutex
	sizes   []int
	hold    chan struct{} // nil: pipelines pass
	entered chan struct{} // receives once per held pipeline
}

func (g *pipelineGate) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *pipelineGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (g *pipelineGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 || cmds[0].Name() != "publish" {
			return next(ctx, cmds) // the client's own, such as a connection's handshake
		}
		g.mu.Lock()
		g.sizes = append(g.sizes, len(cmds))
		hold := g.hold
		g.mu.Unlock()
		if hold != nil {
			g.entered <- struct{}{}
			<-hold
		}
		return next(ctx, cmds)
	}
}

// holdNext makes pipelines wait until the returned release is called.
func (g *pipelineGate) holdNext() (release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hold = make(chan struct{})
	g.entered = make(chan struct{}, 16)
	hold := g.hold
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.hold = nil
			g.mu.Unlock()
			close(hold)
		})
	}
}

func (g *pipelineGate) pipelineSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.sizes...)
}

// gatedBroker returns a broker whose client's pipelines go through a gate,
// and a recorder of what it delivers.
func gatedBroker(t *testing.T) (*Redis, *pipelineGate, *recorder) {
	t.Helper()
	c := redistest.Client(t, redistest.URL(t))
	g := &pipelineGate{}
	c.AddHook(g)
	b := NewRedis(c, RedisOptions{Prefix: testPrefix(t), Logger: redistest.Logger(t)})
	t.Cleanup(func() { _ = b.Close() })
	r := subscribe(t, b)
	awaitSubscriptions(t, c, b, 1)
	return b, g, r
}

// queuedPublications is how many publications wait for the writer.
func (b *Redis) queuedPublications() int {
	b.pub.mu.Lock()
	defer b.pub.mu.Unlock()
	return len(b.pub.queue)
}

func TestRedisConcurrentPublishesShareOnePipeline(t *testing.T) {
	b, g, r := gatedBroker(t)
	ctx := context.Background()

	release := g.holdNext()
	first := make(chan error, 1)
	go func() { first <- b.Publish(ctx, seqMsg("r0", 0, 0)) }()
	<-g.entered // the writer is in its first round trip

	// Everything published meanwhile waits, then goes in one pipeline.
	const waiting = 20
	results := make(chan error, waiting)
	for p := 1; p <= waiting; p++ {
		go func() { results <- b.Publish(ctx, seqMsg("r"+strconv.Itoa(p%3), p, 0)) }()
	}
	waitUntil(t, 10*time.Second, "publications queued", func() bool { return b.queuedPublications() == waiting })
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range waiting {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if got := g.pipelineSizes(); fmt.Sprint(got) != fmt.Sprint([]int{1, waiting}) {
		t.Fatalf("pipeline sizes = %v, want [1 %d]", got, waiting)
	}
	r.await(t, 10*time.Second, "every message", count(waiting+1))
}

func TestRedisPipelinedPublishesKeepEachPublishersRoomOrder(t *testing.T) {
	b, g, r := gatedBroker(t)
	const publishers, per = 16, 200
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range per {
				// PublishMany as well as Publish: its messages stay together.
				m := seqMsg("room"+strconv.Itoa(i%4), p, 2*i)
				next := seqMsg(m.Room, p, 2*i+1)
				var err error
				if i%2 == 0 {
					err = b.PublishMany(context.Background(), []Message{m, next})
				} else if err = b.Publish(context.Background(), m); err == nil {
					err = b.Publish(context.Background(), next)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := r.await(t, 20*time.Second, "every message", count(publishers*per*2))
	if len(got) != publishers*per*2 {
		t.Fatalf("got %d messages, want %d", len(got), publishers*per*2)
	}
	last := map[string]int{}
	for _, m := range got {
		d := decodeSeq(t, m)
		key := strconv.Itoa(d.Pub) + "/" + m.Room
		if prev, ok := last[key]; ok && d.Seq <= prev {
			t.Fatalf("publisher %d room %s: seq %d after %d", d.Pub, m.Room, d.Seq, prev)
		}
		last[key] = d.Seq
	}
	sizes := g.pipelineSizes()
	t.Logf("%d messages in %d pipelines", len(got), len(sizes))
	if len(sizes) >= len(got) {
		t.Errorf("%d pipelines for %d messages: publishes were not batched", len(sizes), len(got))
	}
}

func TestRedisPublishAbandonedWhileQueuedIsNeverSent(t *testing.T) {
	b, g, r := gatedBroker(t)
	release := g.holdNext()
	first := make(chan error, 1)
	go func() { first <- b.Publish(context.Background(), seqMsg("r", 0, 0)) }()
	<-g.entered

	ctx, cancel := context.WithCancel(context.Background())
	abandoned := make(chan error, 1)
	go func() { abandoned <- b.Publish(ctx, Message{Namespace: "/t", Room: "r", Event: "abandoned"}) }()
	waitUntil(t, 10*time.Second, "publication queued", func() bool { return b.queuedPublications() == 1 })
	cancel()
	if err := <-abandoned; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned Publish = %v, want context.Canceled", err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), Message{Namespace: "/t", Room: "r", Event: "after"}); err != nil {
		t.Fatal(err)
	}
	got := r.await(t, 10*time.Second, "'after'", hasEvent("after"))
	if hasEvent("abandoned")(got) {
		t.Fatal("a Publish that returned its context's error was delivered")
	}
}

func TestRedisPublishQueueIsBounded(t *testing.T) {
	b, g, _ := gatedBroker(t)
	b.pub.slots = make(chan struct{}, 2)
	release := g.holdNext()
	defer release()
	results := make(chan error, 2)
	go func() { results <- b.Publish(context.Background(), seqMsg("r", 0, 0)) }()
	<-g.entered
	go func() { results <- b.Publish(context.Background(), seqMsg("r", 0, 1)) }()
	waitUntil(t, 10*time.Second, "publication queued", func() bool { return b.queuedPublications() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Publish(ctx, seqMsg("r", 0, 2)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish beyond the queue's bound = %v, want to wait for a slot until its deadline", err)
	}
	if n := b.queuedPublications(); n != 1 {
		t.Fatalf("%d queued, want 1", n)
	}
	release()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
}

func TestRedisCloseFlushesAndRefuses(t *testing.T) {
	b, g, r := gatedBroker(t)
	release := g.holdNext()
	published := make(chan error, 1)
	go func() { published <- b.Publish(context.Background(), Message{Namespace: "/t", Event: "inflight"}) }()
	<-g.entered
	closed := make(chan struct{})
	go func() {
		_ = b.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned with a publication in flight")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	<-closed
	if err := <-published; err != nil {
		t.Fatalf("in-flight Publish = %v", err)
	}
	r.await(t, 10*time.Second, "the in-flight message", hasEvent("inflight"))
	if err := b.Publish(context.Background(), seqMsg("r", 0, 0)); !errors.Is(err, errClosed) {
		t.Fatalf("Publish after Close = %v, want errClosed", err)
	}
}
