package online

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/redistest"
)

type registry interface {
	Seen(ctx context.Context, orgi string, vs []Visitor) error
	Gone(ctx context.Context, orgi, appid, userid string) error
	List(ctx context.Context, orgi string) ([]Visitor, error)
}

func TestMemoryRegistry(t *testing.T) {
	clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	r := NewMemory()
	r.now = func() time.Time { return clock }
	exercise(t, r, &clock)
}

func TestRedisRegistry(t *testing.T) {
	clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	r := NewRedis(redistest.Client(t, redistest.URL(t)), "kefutest:"+uniqueSuffix())
	r.now = func() time.Time { return clock }
	exercise(t, r, &clock)
}

func uniqueSuffix() string { return time.Now().Format("150405.000000000") }

// exercise checks a registry; clock is the registry's clock.
func exercise(t *testing.T, r registry, clock *time.Time) {
	ctx := context.Background()
	a := Visitor{AppID: "s", UserID: "a", Since: *clock, URL: "https://shop.example/"}
	b := Visitor{AppID: "s", UserID: "b", Since: clock.Add(time.Second), Chatting: true}
	if err := r.Seen(ctx, "o", []Visitor{b, a}); err != nil {
		t.Fatal(err)
	}
	if err := r.Seen(ctx, "other", []Visitor{{AppID: "x", UserID: "z"}}); err != nil {
		t.Fatal(err)
	}
	got, err := r.List(ctx, "o")
	if err != nil || len(got) != 2 || got[0].UserID != "a" || !got[1].Chatting {
		t.Fatalf("list: %+v %v", got, err)
	}
	if err := r.Gone(ctx, "o", "s", "a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.List(ctx, "o"); len(got) != 1 || got[0].UserID != "b" {
		t.Fatalf("after gone: %+v", got)
	}
	*clock = clock.Add(TTL + time.Second) // b's gateway died: no refresh
	if got, _ := r.List(ctx, "o"); len(got) != 0 {
		t.Fatalf("after the TTL: %+v", got)
	}
}
