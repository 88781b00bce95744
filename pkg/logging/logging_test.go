package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestContextAttrsReachRecords(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil))).With("node", "gw1")
	ctx := With(context.Background(), "request_id", "r1")
	ctx = With(ctx, slog.String("sid", "gw1.abc"))
	log.InfoContext(ctx, "hello", "k", 1)
	log.Info("no context attrs")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &second); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"node": "gw1", "request_id": "r1", "sid": "gw1.abc", "k": float64(1)} {
		if first[k] != want {
			t.Errorf("first line %s = %v, want %v (%s)", k, first[k], want, lines[0])
		}
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("a line logged without the context got its attributes: %s", lines[1])
	}
}

func TestWithDoesNotChangeItsParent(t *testing.T) {
	parent := With(context.Background(), "a", 1)
	_ = With(parent, "b", 2)
	_ = With(parent, "c", 3)
	if got := Attrs(parent); len(got) != 1 || got[0].Key != "a" {
		t.Errorf("parent attrs = %v, want only a", got)
	}
	child := With(parent, "d", 4)
	if got := Attrs(child); len(got) != 2 || got[1].Key != "d" {
		t.Errorf("child attrs = %v, want a, d", got)
	}
}
