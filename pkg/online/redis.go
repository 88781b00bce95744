package online

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the cluster's registry: one hash per tenant, field = visitor,
// value = the visitor and its expiry. Expired fields are dropped when listed.
type Redis struct {
	client redis.UniversalClient
	prefix string
	now    func() time.Time
}

// NewRedis returns a registry on client; prefix starts its keys (default
// "kefu").
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = "kefu"
	}
	return &Redis{client: client, prefix: prefix, now: time.Now}
}

type stored struct {
	Visitor
	Expires time.Time `json:"expires"`
}

func (r *Redis) key(orgi string) string { return r.prefix + ":online:" + orgi }

// Seen records (or refreshes) visitors of a tenant in one round trip.
func (r *Redis) Seen(ctx context.Context, orgi string, vs []Visitor) error {
	if len(vs) == 0 {
		return nil
	}
	exp := r.now().Add(TTL)
	fields := make([]any, 0, 2*len(vs))
	for _, v := range vs {
		b, err := json.Marshal(stored{Visitor: v, Expires: exp})
		if err != nil {
			return fmt.Errorf("online: encode: %w", err)
		}
		fields = append(fields, v.Key(), b)
	}
	pipe := r.client.Pipeline()
	pipe.HSet(ctx, r.key(orgi), fields...)
	pipe.Expire(ctx, r.key(orgi), 2*TTL) // a tenant nobody visits any more leaves no key behind
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("online: seen: %w", err)
	}
	return nil
}

// Gone forgets a visitor.
func (r *Redis) Gone(ctx context.Context, orgi, appid, userid string) error {
	if err := r.client.HDel(ctx, r.key(orgi), appid+"|"+userid).Err(); err != nil {
		return fmt.Errorf("online: gone: %w", err)
	}
	return nil
}

// List returns a tenant's visitors online, those who came first first.
func (r *Redis) List(ctx context.Context, orgi string) ([]Visitor, error) {
	all, err := r.client.HGetAll(ctx, r.key(orgi)).Result()
	if err != nil {
		return nil, fmt.Errorf("online: list: %w", err)
	}
	now := r.now()
	var out []Visitor
	var expired []string
	for k, raw := range all {
		var s stored
		if json.Unmarshal([]byte(raw), &s) != nil || now.After(s.Expires) {
			expired = append(expired, k)
			continue
		}
		out = append(out, s.Visitor)
	}
	if len(expired) > 0 {
		_ = r.client.HDel(ctx, r.key(orgi), expired...).Err() // tidy-up only; the next list retries
	}
	sortVisitors(out)
	return out, nil
}
