package archive_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/store/storetest"
	"github.com/kefu-im/kefu/services/archive"
)

func eachStore(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.SQLite(t)) })
	t.Run("mysql", func(t *testing.T) { fn(t, storetest.MySQL(t)) })
}

// chat stores a conversation with one visitor message; ended ones end now.
func chat(t *testing.T, st *store.Store, text string, ended bool) store.Session {
	t.Helper()
	sess := store.Session{Orgi: "org1", AppID: "app1", UserID: store.NewID()}
	if err := st.CreateSession(t.Context(), &sess); err != nil {
		t.Fatal(err)
	}
	m := store.Message{SessionID: sess.ID, Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText, CallType: protocol.CallTypeIn, Body: text}
	if _, _, err := st.AppendMessage(t.Context(), &m); err != nil {
		t.Fatal(err)
	}
	if ended {
		if _, _, err := st.EndSession(t.Context(), sess.ID, protocol.EndByUser, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return sess
}

func find(t *testing.T, st *store.Store, text string) []string {
	t.Helper()
	page, err := st.SearchArchive(t.Context(), store.ArchiveQuery{ArchiveFilter: store.ArchiveFilter{Orgi: "org1", Scope: store.ChatScope{Tenant: true}, Text: text}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range page.Sessions {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestDrainBackfillsInBatches: conversations that ended before the indexer
// first ran (an upgrade) are all indexed, in batches; open ones are not.
func TestDrainBackfillsInBatches(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store) {
		var ended []string
		for range 7 {
			ended = append(ended, chat(t, st, "parcel tracking", true).ID)
		}
		chat(t, st, "parcel still open", false)
		ix := archive.New(st, slog.New(slog.DiscardHandler), archive.Options{Batch: 3})
		n, err := ix.Drain(t.Context())
		if err != nil || n != 7 {
			t.Fatalf("drain: %d %v, want 7", n, err)
		}
		got := find(t, st, "parcel")
		slices.Sort(got)
		slices.Sort(ended)
		if !slices.Equal(got, ended) {
			t.Fatalf("found %v, want the ended %v", got, ended)
		}
		if n, err := ix.Drain(t.Context()); err != nil || n != 0 {
			t.Fatalf("second drain: %d %v, want nothing left", n, err)
		}
	})
}

// TestRunIndexesAChatAsItEnds: a chat that ends while the indexer runs is
// found within a few seconds; the indexer stops with its context.
func TestRunIndexesAChatAsItEnds(t *testing.T) {
	eachStore(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			archive.New(st, slog.New(slog.DiscardHandler), archive.Options{Interval: 20 * time.Millisecond}).Run(ctx)
		}()
		sess := chat(t, st, "我要退货 please", true)
		deadline := time.Now().Add(5 * time.Second)
		for !slices.Equal(find(t, st, "退货"), []string{sess.ID}) {
			if time.Now().After(deadline) {
				t.Fatal("the ended chat was not searchable within 5 s")
			}
			time.Sleep(10 * time.Millisecond) // polling the store's state, not synchronising
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not stop with its context")
		}
	})
}

// TestStartStops: stop ends the indexer and waits for it.
func TestStartStops(t *testing.T) {
	st := storetest.SQLite(t)
	stop := archive.Start(t.Context(), st, slog.New(slog.DiscardHandler))
	sess := chat(t, st, "hello", true)
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(find(t, st, "hello"), []string{sess.ID}) {
		if time.Now().After(deadline) {
			t.Fatal("not indexed within 5 s")
		}
		time.Sleep(20 * time.Millisecond) // polling the store's state
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not return")
	}
}
