package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kefu-im/kefu/pkg/retry"
)

// RedisOptions configures a Redis command queue. Senders need only Stream
// (and MaxLen); consumers need all of it.
type RedisOptions struct {
	// Stream is the stream key. Default "kefu:routing:commands".
	Stream string
	// Group is the consumer group the routing replicas read through.
	// Default "routing".
	Group string
	// Consumer names this consumer within the group, and must differ
	// between live consumers; a restarted process that reuses its old name
	// picks up the commands it had read but not acknowledged. Something
	// like node id + pid. Required by Consume, not by Send.
	Consumer string
	// MaxLen caps the stream (approximately; Redis trims whole nodes).
	// Commands trimmed before they are consumed are lost, so it must exceed
	// any backlog that can build up while no consumer runs. Default
	// 1_000_000.
	MaxLen int64
	// ClaimIdle is how long a command may sit read-but-unacknowledged by a
	// consumer before another consumer takes it over, i.e. how soon the
	// commands of a dead consumer are handled again. A live consumer keeps
	// renewing the commands it holds, so a slow handler is not mistaken for
	// a dead one. Default 10s.
	ClaimIdle time.Duration
	// Block is how long one read waits for new commands; it bounds how late
	// Consume notices that ctx has ended and how often it looks for
	// commands to claim. Default 2s.
	Block time.Duration
	// Logger receives errors, retries and claims. Default slog.Default().
	Logger *slog.Logger
}

// Redis is a Sender and Consumer over a Redis stream read through a consumer
// group: XADD to send; XREADGROUP, XACK and XAUTOCLAIM to consume.
//
// Commands are acknowledged only after their handler succeeds, so a consumer
// that dies leaves its unacknowledged commands in the group's pending list,
// where a live consumer claims them once they have been idle for ClaimIdle.
type Redis struct {
	client redis.UniversalClient
	opts   RedisOptions
	log    *slog.Logger
}

var (
	_ Sender   = (*Redis)(nil)
	_ Consumer = (*Redis)(nil)
)

// payloadField is the stream entry field holding the JSON-encoded command.
const payloadField = "c"

// readCount is how many entries one read or claim takes at a time: one batch.
const readCount = batchSize

// Bounds of the wait between attempts while Redis is failing.
const (
	redisRetryMin = 100 * time.Millisecond
	redisRetryMax = 5 * time.Second
)

// NewRedis returns a command queue on client. The client is not closed by
// it.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.Stream == "" {
		opts.Stream = "kefu:routing:commands"
	}
	if opts.Group == "" {
		opts.Group = "routing"
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = 1_000_000
	}
	if opts.ClaimIdle <= 0 {
		opts.ClaimIdle = 10 * time.Second
	}
	if opts.Block <= 0 {
		opts.Block = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Redis{
		client: client,
		opts:   opts,
		log:    opts.Logger.With("component", "command", "stream", opts.Stream),
	}
}

// Send appends c to the stream.
func (r *Redis) Send(ctx context.Context, c Command) error {
	if c.ID == "" {
		return errNoID
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("command: encode %s: %w", c.ID, err)
	}
	err = r.client.XAdd(ctx, &redis.XAddArgs{
		Stream: r.opts.Stream,
		MaxLen: r.opts.MaxLen,
		Approx: true,
		Values: []any{payloadField, payload},
	}).Err()
	if err != nil {
		return fmt.Errorf("command: send %s to %s: %w", c.ID, r.opts.Stream, err)
	}
	return nil
}

// Consume handles commands until ctx ends, then returns ctx.Err() (after at
// most Block). It creates the group if needed, starting at the beginning of
// the stream so that commands sent before any consumer existed are handled.
// On start and after any error it first re-reads this consumer's own
// unacknowledged commands (left by a previous run under the same name, or by
// a failed read or acknowledgement). Then it reads new commands, and every
// ClaimIdle/2 (checked between reads) claims commands that other consumers
// have left idle for ClaimIdle. If Redis lost the group (a restart without
// persistence) it is created again; other Redis errors are logged and
// retried with backoff until ctx ends.
//
// It returns an error at once, without reading, if RedisOptions.Consumer is
// empty.
func (r *Redis) Consume(ctx context.Context, h Handler) error {
	if r.opts.Consumer == "" {
		return errors.New("command: RedisOptions.Consumer is required to consume")
	}
	c := &redisConsumer{Redis: r, h: h}

	renewCtx, stopRenew := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.renew(renewCtx) })
	defer wg.Wait()
	defer stopRenew()

	return c.run(ctx)
}

// redisConsumer is the state of one Consume call.
type redisConsumer struct {
	*Redis
	h Handler

	mu sync.Mutex
	// held lists the entries read by this call and not yet acknowledged;
	// renew keeps them from looking idle to other consumers.
	held []string
}

func (c *redisConsumer) run(ctx context.Context) error {
	wait := retry.Backoff{Min: redisRetryMin, Max: redisRetryMax}
	needGroup := true
	// pendingFrom is where the scan of our own pending entries resumes;
	// empty once it has seen them all.
	pendingFrom := "0"
	var nextClaim time.Time // zero: claim before reading anything new

	for ctx.Err() == nil {
		var err error
		switch {
		case needGroup:
			if err = c.createGroup(ctx); err == nil {
				needGroup = false
			}
		case pendingFrom != "":
			pendingFrom, err = c.readPending(ctx, pendingFrom)
		case !time.Now().Before(nextClaim):
			if err = c.claim(ctx); err == nil {
				nextClaim = time.Now().Add(c.opts.ClaimIdle / 2)
			}
		default:
			err = c.readNew(ctx)
		}
		if err == nil {
			wait.Reset()
			continue
		}
		if ctx.Err() != nil {
			break
		}
		// A failed read may have been executed with its reply lost, and a
		// failed XACK leaves its entry pending: either way we hold entries
		// that only a scan of our pending list will show us again.
		pendingFrom = "0"
		d := wait.Next()
		if redis.HasErrorPrefix(err, "NOGROUP") {
			// Redis restarted empty, or the stream was deleted.
			c.log.WarnContext(ctx, "consumer group is gone; recreating it", "err", err, "retry_in", d)
			needGroup = true
		} else {
			c.log.WarnContext(ctx, "command consumer error; retrying", "err", err, "retry_in", d)
		}
		retry.Sleep(ctx, d)
	}
	return ctx.Err()
}

// createGroup makes sure the group exists. It starts at "0", not "$":
// senders can fill the stream before any consumer has run, notably right
// after Redis restarted empty and a gateway's XADD recreated the stream.
func (c *redisConsumer) createGroup(ctx context.Context) error {
	err := c.client.XGroupCreateMkStream(ctx, c.opts.Stream, c.opts.Group, "0").Err()
	switch {
	case err == nil:
		c.log.InfoContext(ctx, "created consumer group", "group", c.opts.Group)
		return nil
	case redis.HasErrorPrefix(err, "BUSYGROUP"):
		return nil
	default:
		return fmt.Errorf("create group %s: %w", c.opts.Group, err)
	}
}

// readPending handles the next batch of this consumer's own pending entries
// after id from, returning where to continue, or "" when there are no more.
func (c *redisConsumer) readPending(ctx context.Context, from string) (string, error) {
	streams, err := c.client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    c.opts.Group,
		Consumer: c.opts.Consumer,
		Streams:  []string{c.opts.Stream, from},
		Count:    readCount,
		Block:    -1, // history reads never block; -1 omits BLOCK
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return from, fmt.Errorf("read own pending: %w", err)
	}
	msgs := messages(streams)
	if len(msgs) == 0 {
		return "", nil
	}
	c.log.InfoContext(ctx, "re-handling unacknowledged commands", "count", len(msgs))
	if err := c.handleBatch(ctx, msgs); err != nil {
		return from, err
	}
	return msgs[len(msgs)-1].ID, nil
}

// readNew waits up to Block for new entries and handles them.
func (c *redisConsumer) readNew(ctx context.Context) error {
	streams, err := c.client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    c.opts.Group,
		Consumer: c.opts.Consumer,
		Streams:  []string{c.opts.Stream, ">"},
		Count:    readCount,
		Block:    c.opts.Block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil // nothing new within Block
	}
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return c.handleBatch(ctx, messages(streams))
}

// claim takes over and handles every entry that has been pending with any
// consumer for longer than ClaimIdle: one whose consumer is dead, since a
// live one renews what it holds.
func (c *redisConsumer) claim(ctx context.Context) error {
	start := "0-0"
	for {
		msgs, next, err := c.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream:   c.opts.Stream,
			Group:    c.opts.Group,
			Consumer: c.opts.Consumer,
			MinIdle:  c.opts.ClaimIdle,
			Start:    start,
			Count:    readCount,
		}).Result()
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(msgs) > 0 {
			c.log.InfoContext(ctx, "claimed commands left by another consumer", "count", len(msgs))
			if err := c.handleBatch(ctx, msgs); err != nil {
				return err
			}
		}
		if next == "0-0" {
			return nil
		}
		start = next
	}
}

// handleBatch hands msgs to the handler as one batch and then acknowledges
// them all. If ctx ends first, or the acknowledgement fails, they stay
// pending with this consumer.
func (c *redisConsumer) handleBatch(ctx context.Context, msgs []redis.XMessage) error {
	ids := make([]string, len(msgs))
	cmds := make([]Command, 0, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		if cmd, ok := c.decode(ctx, m); ok {
			cmds = append(cmds, cmd)
		}
	}
	c.setHeld(ids)
	defer c.setHeld(nil)
	if len(cmds) > 0 && !handle(ctx, c.log, c.h, cmds) {
		return ctx.Err()
	}
	if err := c.ack(ctx, ids); err != nil {
		return fmt.Errorf("ack %s..%s: %w", ids[0], ids[len(ids)-1], err)
	}
	return nil
}

// ack acknowledges entries ids even if ctx has just ended: the handler has
// succeeded, and shutting down should not cause a needless redelivery.
func (c *redisConsumer) ack(ctx context.Context, ids []string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	return c.client.XAck(ctx, c.opts.Stream, c.opts.Group, ids...).Err()
}

// ackTimeout bounds an acknowledgement made after ctx ended.
const ackTimeout = 5 * time.Second

// decode extracts the command from m. Entries that hold none (trimmed from
// the stream while pending, or not written by Send) are logged and reported
// !ok, to be acknowledged and skipped: retrying them cannot help.
func (c *redisConsumer) decode(ctx context.Context, m redis.XMessage) (Command, bool) {
	var cmd Command
	raw, ok := m.Values[payloadField].(string)
	if !ok {
		c.log.WarnContext(ctx, "dropping stream entry without a command (trimmed while pending?)", "entry", m.ID)
		return cmd, false
	}
	if err := json.Unmarshal([]byte(raw), &cmd); err != nil {
		c.log.ErrorContext(ctx, "dropping malformed command", "entry", m.ID, "size", len(raw), "err", err)
		return cmd, false
	}
	return cmd, true
}

func (c *redisConsumer) setHeld(ids []string) {
	c.mu.Lock()
	c.held = ids
	c.mu.Unlock()
}

// renew resets the idle time of the entries this consumer holds, every
// ClaimIdle/3, until ctx ends, so that a handler that takes longer than
// ClaimIdle (a store retrying, a long backoff) does not get its command,
// and the rest of its batch, claimed and handled a second time, out of
// order, by another consumer.
func (c *redisConsumer) renew(ctx context.Context) {
	t := time.NewTicker(max(c.opts.ClaimIdle/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		ids := c.held // never modified in place: safe to use unlocked
		c.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		// XCLAIM to ourselves with no minimum idle time resets the idle
		// time; JUSTID leaves the delivery count alone. Entries acknowledged
		// meanwhile are not pending and are ignored.
		err := c.client.XClaimJustID(ctx, &redis.XClaimArgs{
			Stream:   c.opts.Stream,
			Group:    c.opts.Group,
			Consumer: c.opts.Consumer,
			MinIdle:  0,
			Messages: ids,
		}).Err()
		if err != nil && ctx.Err() == nil {
			c.log.WarnContext(ctx, "could not renew held commands", "count", len(ids), "err", err)
		}
	}
}

// messages flattens an XREADGROUP reply for our single stream.
func messages(streams []redis.XStream) []redis.XMessage {
	if len(streams) == 0 {
		return nil
	}
	return streams[0].Messages
}
