// Package store is Kefu's persistence layer: gorm models and the queries the
// gateway and routing service run against them. MySQL (or MariaDB) backs a
// cluster; an embedded SQLite file backs the single-binary mode. Every query
// is written to behave the same on both.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

var (
	// ErrNotFound is returned (wrapped) when a lookup matches no row.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned (wrapped) when a write would break a uniqueness
	// rule, e.g. a taken username.
	ErrConflict = errors.New("conflict")
)

// Config selects the database. MySQLDSN wins when set; otherwise SQLitePath
// is used.
type Config struct {
	MySQLDSN   string
	SQLitePath string
	Logger     *slog.Logger
	// Clock stamps rows (message times, updates); nil is the wall clock.
	// Tests of time-driven behaviour share theirs with the code under test.
	Clock func() time.Time
	// Observe, if set, is told the duration of every database operation.
	Observe func(op string, d time.Duration, err error)
}

// Store is safe for concurrent use; open one per process.
type Store struct {
	db    *gorm.DB
	log   *slog.Logger
	mysql bool
	clock func() time.Time
	// appender batches concurrent AppendMessage calls (msgbatch.go).
	appender appender
}

const (
	// Longer than any transaction we run: a second process writing the same
	// SQLite file waits for the lock instead of failing with SQLITE_BUSY.
	sqliteBusyTimeout = 10 * time.Second
)

// Open connects to the configured database. It does not migrate: call
// Migrate once the process is ready to.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	gcfg := &gorm.Config{
		Logger: quietLogger{logger.NewSlogLogger(log, logger.Config{
			LogLevel:                  logger.Error,
			IgnoreRecordNotFoundError: true,
			// Log statements with placeholders: values include password and
			// token hashes and chat text, which do not belong in logs.
			ParameterizedQueries: true,
		})},
		NowFunc:        func() time.Time { return utc(time.Now()) },
		TranslateError: true,
		// Our own transactions group the writes that must be atomic; gorm's
		// implicit per-statement transactions would only add round trips.
		SkipDefaultTransaction: true,
	}

	s := &Store{log: log, clock: cfg.Clock}
	if s.clock == nil {
		s.clock = time.Now
	}
	var (
		db  *gorm.DB
		err error
	)
	if cfg.MySQLDSN != "" {
		dsn, derr := normalizeMySQLDSN(cfg.MySQLDSN, log)
		if derr != nil {
			return nil, derr
		}
		s.mysql = true
		db, err = gorm.Open(mysql.New(mysql.Config{DSN: dsn}), gcfg)
	} else {
		if cfg.SQLitePath == "" {
			return nil, errors.New("store: neither MySQLDSN nor SQLitePath is set")
		}
		if strings.ContainsRune(cfg.SQLitePath, '?') {
			return nil, fmt.Errorf("store: SQLite path %q must not contain '?'", cfg.SQLitePath)
		}
		if dir := filepath.Dir(cfg.SQLitePath); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create SQLite directory: %w", err)
			}
		}
		db, err = gorm.Open(sqlite.Open(sqliteDSN(cfg.SQLitePath)), gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if cfg.Observe != nil {
		if err := observe(db, cfg.Observe); err != nil {
			return nil, fmt.Errorf("store: observe: %w", err)
		}
	}
	s.db = db

	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: pool: %w", err)
	}
	if s.mysql {
		sqlDB.SetMaxOpenConns(32)
		// As many idle as open: under bursts, closing the extra connections
		// only to open them again cost a TCP handshake and a login each.
		sqlDB.SetMaxIdleConns(32)
		// Below the usual server/proxy idle timeouts, so the pool never hands
		// out a connection the server has already dropped.
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		// SQLite has a single writer. One connection per process turns write
		// contention inside the process into queueing on the pool instead of
		// busy-waiting in SQLite; other processes are covered by busy_timeout
		// plus BEGIN IMMEDIATE. Nothing in this package holds a transaction
		// while issuing a second query outside it, which would deadlock here.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// normalizeMySQLDSN forces the settings the store relies on: times come back
// as time.Time in UTC, text is utf8mb4, and UPDATE reports matched rather
// than changed rows (as SQLite does), so "did the row exist" checks work
// when an update happens to write identical values.
func normalizeMySQLDSN(dsn string, log *slog.Logger) (string, error) {
	mc, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("store: parse MySQL DSN: %w", err)
	}
	if mc.DBName == "" {
		return "", errors.New("store: MySQL DSN has no database name")
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	mc.ClientFoundRows = true
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	cs, hasCharset := mc.Params["charset"]
	if !hasCharset && mc.Collation == "" {
		// A collation in the handshake sets the connection charset without
		// the extra SET NAMES round trip a charset param costs.
		mc.Collation = "utf8mb4_unicode_ci"
	}
	utf8mb4 := strings.HasPrefix(mc.Collation, "utf8mb4") || (mc.Collation == "" && strings.HasPrefix(cs, "utf8mb4"))
	if utf8mb4 {
		// Client-side placeholder interpolation saves the prepare and close
		// round trips of every statement; it is safe with utf8mb4 (the
		// driver refuses it for the multibyte charsets where it is not).
		mc.InterpolateParams = true
	} else {
		log.Warn("store: MySQL DSN charset is not utf8mb4; 4-byte characters will fail",
			"charset", cs, "collation", mc.Collation)
	}
	return mc.FormatDSN(), nil
}

func sqliteDSN(path string) string {
	// Pragma order matters: busy_timeout first so that switching to WAL
	// waits for a concurrent opener instead of failing. _txlock=immediate
	// takes the write lock at BEGIN, because a deferred transaction that
	// reads and then writes can fail with SQLITE_BUSY without waiting.
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	}
	return path + "?" + strings.Join(q, "&")
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: pool: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close releases the connection pool.
func (s *Store) Close() error {
	s.appender.wait()
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: pool: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// DB exposes the gorm handle for tests and one-off tooling. Application
// code should add a Store method instead, so queries stay portable.
func (s *Store) DB() *gorm.DB { return s.db }

// NewID returns a random 128-bit id as 32 lowercase hex characters, the
// format of every primary key in the store.
func NewID() string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (it aborts the
	// program instead), so there is no error to handle.
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// utc normalises a time to what both backends store: MySQL DATETIME(3)
// keeps milliseconds (and would round, not truncate, anything finer), and
// SQLite compares times as text, which only orders correctly when every
// value has the same zone.
func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := utc(*t)
	return &v
}

func (s *Store) now() time.Time { return utc(s.clock()) }

const (
	defaultLimit = 50
	maxLimit     = 200
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

func isDuplicate(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey)
}

// notFound turns gorm's miss into ErrNotFound so callers need not import
// gorm.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("store: "+format+": %w", append(args, ErrNotFound)...)
	}
	return fmt.Errorf("store: "+format+": %w", append(args, err)...)
}

// touched is the outcome of a write that must hit a row (an update or delete
// by key): res's error, or ErrNotFound when no row matched; both wrapped as
// notFound's are.
func touched(res *gorm.DB, format string, args ...any) error {
	switch {
	case res.Error != nil:
		return fmt.Errorf("store: "+format+": %w", append(args, res.Error)...)
	case res.RowsAffected == 0:
		return fmt.Errorf("store: "+format+": %w", append(args, ErrNotFound)...)
	}
	return nil
}

// isRetryable reports errors after which the whole transaction was rolled
// back by the server and running it again is the documented remedy.
func isRetryable(err error) bool {
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 // ER_LOCK_DEADLOCK
	}
	var se *gosqlite.Error
	if errors.As(err, &se) {
		// SQLITE_BUSY: a writer in another process outlasted busy_timeout.
		return se.Code()&0xff == 5
	}
	return false
}

// retryTx runs fn in a transaction, again if the database aborted it for a
// deadlock. fn must be safe to re-run (it sees a fresh transaction).
func (s *Store) retryTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	const attempts = 5
	var err error
	for i := range attempts {
		err = s.db.WithContext(ctx).Transaction(fn)
		if err == nil || !isRetryable(err) || ctx.Err() != nil {
			return err
		}
		s.log.Debug("store: retrying transaction", "attempt", i+1, "err", err)
	}
	return err
}

// quietLogger keeps gorm's error log for real failures. Duplicate keys are
// expected outcomes that callers handle (resends, conflicts, insert-ignore),
// so logging them as errors would only page someone for nothing.
type quietLogger struct{ logger.Interface }

func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{l.Interface.LogMode(level)}
}

func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if isDuplicate(err) || errors.Is(err, context.Canceled) {
		err = nil
	}
	l.Interface.Trace(ctx, begin, fc, err)
}
