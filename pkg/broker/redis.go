package broker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/retry"
)

// RedisOptions configures a Redis broker. Every node of a deployment must
// use the same Prefix and Shards, or they will not hear each other.
type RedisOptions struct {
	// Prefix starts every channel name, so that deployments can share a
	// Redis. Default "kefu".
	Prefix string
	// Shards is the number of pub/sub channels messages are spread over.
	// Each node subscribes to all of them on one connection; more shards
	// only help once Redis Cluster spreads the channels over several
	// servers. Default 8.
	Shards int
	// Logger receives subscription losses and dropped messages. Default
	// slog.Default().
	Logger *slog.Logger
}

// Redis is a Broker over Redis pub/sub, for a cluster of gateway nodes.
//
// A message goes to channel "<prefix>:bc:<shard>", where shard is a hash of
// its namespace and room: one room always uses one channel, which is what
// keeps a room's messages in order. Each Subscribe call holds a single
// connection subscribed to every shard channel, so the number of Redis
// subscriptions is Shards per node, whatever the number of rooms.
//
// Delivery is at-most-once: Redis pub/sub keeps nothing for a subscriber
// that is disconnected, so messages published while a node's connection is
// down (Redis restarting, network partition) never reach that node.
type Redis struct {
	client   redis.UniversalClient
	log      *slog.Logger
	channels []string // channels[i] is shard i's channel
	// pingEvery is how long a quiet subscription waits before checking the
	// connection with a PING; a server that vanished without closing the
	// TCP connection is noticed after at most twice this.
	pingEvery time.Duration
	pub       publisher
}

var _ Broker = (*Redis)(nil)

// NewRedis returns a Broker that publishes and subscribes through client.
// The client is not closed by the broker.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.Prefix == "" {
		opts.Prefix = "kefu"
	}
	if opts.Shards <= 0 {
		opts.Shards = 8
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	channels := make([]string, opts.Shards)
	for i := range channels {
		channels[i] = opts.Prefix + ":bc:" + strconv.Itoa(i)
	}
	return &Redis{
		client:    client,
		log:       opts.Logger.With("component", "broker"),
		channels:  channels,
		pingEvery: defaultPingEvery,
		pub:       publisher{client: client, slots: make(chan struct{}, maxQueued)},
	}
}

// channel returns the channel that carries messages for (namespace, room).
func (b *Redis) channel(namespace, room string) string {
	h := fnv.New32a()
	h.Write([]byte(namespace))
	h.Write([]byte{0}) // so that ("ab","c") and ("a","bc") differ
	h.Write([]byte(room))
	return b.channels[h.Sum32()%uint32(len(b.channels))]
}

// Publish sends msg to every subscribed node. A nil error means Redis
// accepted the message. An error means it did not, except when ctx ended or
// the connection broke after the message was written: then nodes may still
// get it.
//
// Concurrent calls share round trips: see publisher.
func (b *Redis) Publish(ctx context.Context, msg Message) error {
	return b.PublishMany(ctx, []Message{msg})
}

// PublishMany sends msgs consecutively in one pipeline: Redis runs a
// connection's commands in order, so the order of Publish holds.
func (b *Redis) PublishMany(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	p := &publication{
		channels: make([]string, len(msgs)),
		payloads: make([][]byte, len(msgs)),
		done:     make(chan error, 1),
	}
	for i, msg := range msgs {
		payload, err := encodeMessage(msg)
		if err != nil {
			return fmt.Errorf("broker: encode message: %w", err)
		}
		p.channels[i], p.payloads[i] = b.channel(msg.Namespace, msg.Room), payload
	}
	if err := b.pub.publish(ctx, p); err != nil {
		if len(msgs) == 1 {
			return fmt.Errorf("broker: publish to %s: %w", p.channels[0], err)
		}
		return fmt.Errorf("broker: publish %d messages: %w", len(msgs), err)
	}
	return nil
}

// Close waits for publications in flight and makes later ones fail. It does
// not close the Redis client, and Subscribe calls end with their contexts.
func (b *Redis) Close() error {
	b.pub.close()
	return nil
}

const (
	// defaultPingEvery is Redis.pingEvery outside tests.
	defaultPingEvery = 5 * time.Second
	// retryMin and retryMax bound the wait between resubscription attempts.
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// Subscribe delivers messages from every node until ctx ends, then returns
// ctx.Err(). When the connection to Redis is lost it starts over on a new
// one, backing off while Redis is unreachable, and logs what happened:
// messages published in the gap are lost to this node.
//
// go-redis's PubSub can reconnect by itself, but only from inside Receive
// and without telling the caller; owning the reconnection here makes the
// gap visible in the logs and lets a dead-but-open connection (detected by
// PING) be replaced too.
func (b *Redis) Subscribe(ctx context.Context, deliver func(Message)) error {
	wait := retry.Backoff{Min: retryMin, Max: retryMax}
	lost := false
	for {
		subscribed, err := b.session(ctx, deliver, lost)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if subscribed {
			wait.Reset()
		}
		lost = true
		d := wait.Next()
		b.log.WarnContext(ctx, "redis subscription lost; resubscribing",
			"err", err, "retry_in", d)
		if !retry.Sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

// session runs one subscription on one connection until it fails or ctx
// ends. subscribed reports whether Redis confirmed every channel, i.e.
// whether the session got as far as receiving.
func (b *Redis) session(ctx context.Context, deliver func(Message), resumed bool) (subscribed bool, err error) {
	// Without channels, Subscribe does not connect yet; the channels are
	// subscribed below, where the error is not swallowed.
	ps := b.client.Subscribe(ctx)
	defer ps.Close()
	// A Receive in progress ignores ctx; closing the PubSub interrupts it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	if err := ps.Subscribe(ctx, b.channels...); err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	confirmed := 0
	awaitingPong := false
	for {
		m, err := ps.ReceiveTimeout(ctx, b.pingEvery)
		if err != nil {
			if !isTimeout(err) {
				return subscribed, fmt.Errorf("receive: %w", err)
			}
			if awaitingPong {
				return subscribed, fmt.Errorf("no reply to ping within %s", b.pingEvery)
			}
			if err := ps.Ping(ctx); err != nil {
				return subscribed, fmt.Errorf("ping: %w", err)
			}
			awaitingPong = true
			continue
		}
		awaitingPong = false
		switch m := m.(type) {
		case *redis.Message:
			b.deliver(ctx, m, deliver)
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			confirmed++
			if confirmed == len(b.channels) {
				subscribed = true
				if resumed {
					b.log.InfoContext(ctx, "redis subscription restored; messages published while it was down were not received")
				}
			}
		case *redis.Pong:
		}
	}
}

func (b *Redis) deliver(ctx context.Context, m *redis.Message, deliver func(Message)) {
	msg, err := decodeMessage(m.Payload)
	if err != nil {
		b.log.WarnContext(ctx, "dropping malformed message",
			"channel", m.Channel, "size", len(m.Payload), "err", err)
		return
	}
	deliver(msg)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
