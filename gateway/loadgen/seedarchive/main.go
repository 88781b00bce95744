// Command seedarchive fills a MySQL/MariaDB database with a realistic
// archive — a year of ended conversations in English and Chinese over many
// sites, skill groups, agents, tags, ratings and reviews — indexes it with
// the store's own indexing, and measures archive searches through the REST
// API of a gateway node built on it (docs/benchmarks.md):
//
//	go run ./gateway/loadgen/seedarchive -dsn 'root@tcp(127.0.0.1:3306)/kefu_archive' -fresh
//	go run ./gateway/loadgen/seedarchive -dsn ... -measure-only    # again, on the seeded database
//
// -fresh drops and creates the DSN's database first.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/kefu-im/kefu/pkg/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "seedarchive:", err)
		os.Exit(1)
	}
}

type config struct {
	dsn         string
	fresh       bool
	measureOnly bool
	sessions    int
	messages    int
	agents      int
	sites       int
	skills      int
	tags        int
	days        int
	workers     int
	runs        int
	seed        uint64
	tailSize    int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("seedarchive", flag.ContinueOnError)
	fs.StringVar(&c.dsn, "dsn", "", "MySQL DSN with the database name (required)")
	fs.BoolVar(&c.fresh, "fresh", false, "drop and create the database first")
	fs.BoolVar(&c.measureOnly, "measure-only", false, "only measure, on a database seeded before")
	fs.IntVar(&c.sessions, "sessions", 100000, "ended conversations")
	fs.IntVar(&c.messages, "messages", 10, "messages per conversation, on average")
	fs.IntVar(&c.agents, "agents", 300, "agents")
	fs.IntVar(&c.sites, "sites", 20, "sites")
	fs.IntVar(&c.skills, "skills", 15, "skill groups")
	fs.IntVar(&c.tags, "tags", 40, "tags")
	fs.IntVar(&c.days, "days", 365, "end times spread over this many days up to now")
	fs.IntVar(&c.workers, "workers", 2, "indexing transactions at once")
	fs.IntVar(&c.runs, "runs", 40, "samples per measured query")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed")
	fs.IntVar(&c.tailSize, "tail", 200000, "made-up words in the long tail")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.dsn == "" {
		return fmt.Errorf("-dsn is required")
	}
	if c.fresh {
		if err := recreate(ctx, c.dsn); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := store.Open(ctx, store.Config{MySQLDSN: c.dsn, Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))
	var w *world
	if c.measureOnly {
		if w, err = loadWorld(ctx, st); err != nil {
			return err
		}
	} else {
		if w, err = seed(ctx, st, c, r, out); err != nil {
			return err
		}
		if err := index(ctx, st, c, out); err != nil {
			return err
		}
	}
	return measure(ctx, st, w, c, r, out, log)
}

// recreate drops and creates the DSN's database.
func recreate(ctx context.Context, dsn string) error {
	mc, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("dsn: %w", err)
	}
	name := mc.DBName
	mc.DBName = ""
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{"DROP DATABASE IF EXISTS `" + name + "`", "CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// index runs the store's indexing over every seeded conversation, as the
// indexer does, with several transactions at once.
func index(ctx context.Context, st *store.Store, c config, out io.Writer) error {
	start := time.Now()
	refs, err := st.UnarchivedSessions(ctx, c.sessions+1)
	if err != nil {
		return err
	}
	work := make(chan []store.ArchiveRef)
	errc := make(chan error, c.workers)
	for range c.workers {
		go func() {
			var err error
			for batch := range work {
				if err == nil {
					err = st.IndexSessions(ctx, batch)
				}
			}
			errc <- err
		}()
	}
	for i := 0; i < len(refs); i += 500 {
		work <- refs[i:min(i+500, len(refs))]
	}
	close(work)
	for range c.workers {
		if werr := <-errc; werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	var terms int64
	if err := st.DB().WithContext(ctx).Model(&store.ArchiveTerm{}).Count(&terms).Error; err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Fprintf(out, "indexed %d conversations in %s: %d index rows, %.0f conversations/s\n", len(refs), d.Round(time.Second), terms, float64(len(refs))/d.Seconds())
	return nil
}
