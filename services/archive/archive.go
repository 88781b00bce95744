// Package archive is the archive's indexer: it puts the words of every
// ended conversation into the full-text index (pkg/store, archive_terms),
// a batch at a time, and marks them archived, so that a chat is searchable
// within a few seconds of its end. On its first run after an upgrade it
// works through every conversation that ended before.
//
// One indexer runs per cluster — in the routing service's lease holder, or
// in the single binary — but two overlapping while the lease moves do no
// harm: indexing a conversation again writes the same rows.
package archive

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the indexer reads and writes.
type Store interface {
	UnarchivedSessions(ctx context.Context, limit int) ([]store.ArchiveRef, error)
	IndexSessions(ctx context.Context, refs []store.ArchiveRef) error
}

// Options tune an Indexer; zero values take the defaults.
type Options struct {
	// Interval is how often it looks for newly ended conversations
	// (default 1 s).
	Interval time.Duration
	// Batch is how many conversations one transaction indexes (default 200).
	Batch int
}

// Indexer indexes ended conversations.
type Indexer struct {
	st       Store
	log      *slog.Logger
	interval time.Duration
	batch    int
}

// New returns an Indexer.
func New(st Store, log *slog.Logger, o Options) *Indexer {
	ix := &Indexer{st: st, log: log, interval: o.Interval, batch: o.Batch}
	if ix.interval <= 0 {
		ix.interval = time.Second
	}
	if ix.batch <= 0 {
		ix.batch = 200
	}
	return ix
}

// Run indexes what is waiting, then again every interval, until ctx ends.
// A failure is logged and the work tried again at the next tick.
func (ix *Indexer) Run(ctx context.Context) {
	tick := time.NewTicker(ix.interval)
	defer tick.Stop()
	for {
		n, err := ix.Drain(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			ix.log.Warn("archive: indexing failed; trying again", "err", err)
		case n > ix.batch:
			ix.log.Info("archive: indexed a backlog of ended conversations", "sessions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Drain indexes every conversation waiting, a batch at a time, and returns
// how many it indexed.
func (ix *Indexer) Drain(ctx context.Context) (int, error) {
	n := 0
	for {
		refs, err := ix.st.UnarchivedSessions(ctx, ix.batch)
		if err != nil {
			return n, fmt.Errorf("archive: %w", err)
		}
		if len(refs) == 0 {
			return n, nil
		}
		if err := ix.st.IndexSessions(ctx, refs); err != nil {
			return n, fmt.Errorf("archive: %w", err)
		}
		n += len(refs)
		if len(refs) < ix.batch {
			return n, nil
		}
	}
}

// Start runs an indexer with the default options beside its caller's own
// work; stop ends it and waits until it has.
func Start(ctx context.Context, st Store, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(st, log, Options{}).Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
