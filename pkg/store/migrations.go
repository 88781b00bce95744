package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// A migration is one numbered schema step, applied once, in order, and
// recorded in schema_migrations.
//
// On MySQL every DDL statement commits implicitly, so the transaction a step
// runs in does not make it atomic there: a step must be safe to re-run after
// a crash halfway through (check before creating). On SQLite DDL is
// transactional and a step is all or nothing.
//
// Steps describe the schema with their own frozen struct copies, never the
// live models: a later change to models.go must not alter what an old step
// creates, or a fresh database and an upgraded one would differ. Change a
// model, add a step; TestSchemaMatchesModels catches a forgotten one.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB, isMySQL bool) error
}

var migrations = []migration{
	{1, "initial schema", migrateV1},
	{2, "agent status log", migrateV2},
	{3, "session configs and requested agent", migrateV3},
	{4, "routing fence, transfers, timers and prompts", migrateV4},
	{5, "attachments, leave messages, trails, blacklist, ratings", migrateV5},
	{6, "workbench: read states, tags, canned replies, summaries, inbox notes, agents' IM", migrateV6},
	{7, "supervision: group tree, roles, session events and notes, monitor samples, archive index, quality reviews", migrateV7},
	{8, "administration: tenants off, deleted agents, login origins, hours, site skills, visitor tags, canned categories, audit, invites", migrateV8},
	{9, "contacts: contacts, attributes and their values", migrateV9},
}

// migrationLock is a MySQL named lock: server-wide, held by a connection,
// and released by the server if that connection dies mid-migration.
const (
	migrationLock        = "kefu_migrate"
	migrationLockTimeout = 60 // seconds
)

// mysqlTableOptions pins the charset per table because MariaDB before 11.6
// (and many MySQL installs) still default a new database to latin1.
const mysqlTableOptions = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"

// Migrate brings the schema up to date. Several processes may call it at
// once against one database: on MySQL they take turns on a named lock; on
// SQLite each step re-checks its version inside a write transaction, which
// SQLite already serialises.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if !s.mysql {
		return s.migrate(ctx, db)
	}
	// Everything runs on the one connection that holds the lock, so the lock
	// lives exactly as long as the work does.
	return db.Connection(func(conn *gorm.DB) error {
		// Connection hands over a single-use statement; a new session keeps
		// the pinned connection but lets every query start clean.
		conn = conn.Session(&gorm.Session{NewDB: true})
		if err := s.lockMigrations(conn); err != nil {
			return err
		}
		defer s.unlockMigrations(ctx, conn)
		return s.migrate(ctx, conn)
	})
}

func (s *Store) lockMigrations(conn *gorm.DB) error {
	var got sql.NullInt64
	if err := conn.Raw("SELECT GET_LOCK(?, ?)", migrationLock, migrationLockTimeout).Row().Scan(&got); err != nil {
		return fmt.Errorf("store: take migration lock: %w", err)
	}
	if !got.Valid || got.Int64 != 1 {
		return fmt.Errorf("store: migration lock %q not granted within %ds", migrationLock, migrationLockTimeout)
	}
	return nil
}

func (s *Store) unlockMigrations(ctx context.Context, conn *gorm.DB) {
	// The caller's context may be cancelled by now; the release must still
	// happen or the pooled connection keeps the lock.
	var rel sql.NullInt64
	err := conn.WithContext(context.WithoutCancel(ctx)).Raw("SELECT RELEASE_LOCK(?)", migrationLock).Row().Scan(&rel)
	if err == nil && rel.Valid && rel.Int64 == 1 {
		return
	}
	s.log.Error("store: release migration lock; discarding the connection", "err", err)
	// A connection that may still hold the lock must not go back to the
	// pool; closing it makes the server release the lock.
	if c, ok := conn.Statement.ConnPool.(*sql.Conn); ok {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
}

func (s *Store) migrate(ctx context.Context, db *gorm.DB) error {
	if err := db.Exec(createMigrationsTable(s.mysql)).Error; err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var applied []int
	if err := db.Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&applied).Error; err != nil {
		return fmt.Errorf("store: read schema_migrations: %w", err)
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		done[v] = true
	}
	latest := migrations[len(migrations)-1].version
	if n := len(applied); n > 0 && applied[n-1] > latest {
		// A newer release migrated this database (rolling upgrade). Steps
		// are additive, so the older code keeps working against it.
		s.log.Warn("store: database schema is newer than this binary", "db_version", applied[n-1], "binary_version", latest)
	}

	for _, m := range migrations {
		if done[m.version] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		ran := false
		err := db.Transaction(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Row().Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil // another process got here first
			}
			if err := m.up(tx, s.mysql); err != nil {
				return err
			}
			ran = true
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, s.now()).Error
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
		if ran {
			s.log.Info("store: applied migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}

func createMigrationsTable(isMySQL bool) string {
	// Written by hand rather than through gorm: it must exist before any
	// step runs, and IF NOT EXISTS makes concurrent first starts harmless.
	// The SQLite driver only parses columns declared exactly DATETIME as
	// times, so the precision is MySQL's alone.
	const q = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER NOT NULL PRIMARY KEY,
	name VARCHAR(128) NOT NULL,
	applied_at %s NOT NULL
)`
	if isMySQL {
		return fmt.Sprintf(q, "DATETIME(3)") + " " + mysqlTableOptions
	}
	return fmt.Sprintf(q, "DATETIME")
}

// migrateV1 creates every table as models.go defined them at version 1.
func migrateV1(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	for _, model := range []any{
		&v1Tenant{}, &v1Site{}, &v1Agent{}, &v1SkillGroup{}, &v1AgentSkill{}, &v1Token{},
		&v1Visitor{}, &v1Session{}, &v1Message{}, &v1AgentState{}, &v1Setting{},
	} {
		if m.HasTable(model) {
			continue
		}
		if err := m.CreateTable(model); err != nil {
			return fmt.Errorf("create %T: %w", model, err)
		}
	}
	if !isMySQL {
		// MySQL compares usernames case-insensitively (utf8mb4_unicode_ci);
		// without this SQLite would let "Alice" and "alice" both register.
		// GetAgentByUsername matches with the same collation.
		if err := tx.Exec("CREATE UNIQUE INDEX IF NOT EXISTS idx_agents_username_nocase ON agents (username COLLATE NOCASE)").Error; err != nil {
			return fmt.Errorf("create idx_agents_username_nocase: %w", err)
		}
	}
	return nil
}

// migrateV2 adds the agent status log and when each current status began.
func migrateV2(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	if !m.HasTable(&v2AgentStatusLog{}) {
		if err := m.CreateTable(&v2AgentStatusLog{}); err != nil {
			return fmt.Errorf("create agent_status_logs: %w", err)
		}
	}
	if !m.HasColumn(&v2AgentState{}, "StatusSince") {
		if err := m.AddColumn(&v2AgentState{}, "StatusSince"); err != nil {
			return fmt.Errorf("add agent_states.status_since: %w", err)
		}
	}
	return nil
}

// v2AgentState names the column version 2 adds.
type v2AgentState struct {
	AgentID     string `gorm:"primaryKey;size:32"`
	StatusSince *time.Time
}

func (v2AgentState) TableName() string { return "agent_states" }

type v2AgentStatusLog struct {
	PK      int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	AgentID string    `gorm:"size:32;not null;index:idx_status_log_agent,priority:2"`
	Orgi    string    `gorm:"size:32;not null;index:idx_status_log_agent,priority:1"`
	Status  string    `gorm:"size:16;not null"`
	Busy    bool      `gorm:"not null"`
	Since   time.Time `gorm:"not null;index:idx_status_log_agent,priority:3"`
	Until   time.Time `gorm:"not null"`
	Seconds int64     `gorm:"not null"`
}

func (v2AgentStatusLog) TableName() string { return "agent_status_logs" }

// migrateV3 adds routing settings and the agent a visitor asked for.
func migrateV3(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	if !m.HasTable(&v3SessionConfig{}) {
		if err := m.CreateTable(&v3SessionConfig{}); err != nil {
			return fmt.Errorf("create session_configs: %w", err)
		}
	}
	if !m.HasColumn(&v3Session{}, "Agent") {
		if err := m.AddColumn(&v3Session{}, "Agent"); err != nil {
			return fmt.Errorf("add sessions.agent: %w", err)
		}
	}
	return nil
}

type v3SessionConfig struct {
	Orgi         string `gorm:"primaryKey;size:32"`
	Skill        string `gorm:"primaryKey;size:32"`
	Distribution string `gorm:"size:16;not null;default:''"`
	LastAgent    *bool
	MaxUser      int `gorm:"not null;default:0"`
	InitMaxUser  int `gorm:"not null;default:0"`
	UpdatedAt    time.Time
}

func (v3SessionConfig) TableName() string { return "session_configs" }

type v3Session struct {
	ID    string `gorm:"primaryKey;size:32"`
	Agent string `gorm:"size:32;not null;default:'';column:agent"`
}

func (v3Session) TableName() string { return "sessions" }

// Frozen copies of the version-1 models; see the migration comment above.

type v1Tenant struct {
	ID        string `gorm:"primaryKey;size:32"`
	Name      string `gorm:"size:128;not null"`
	TimeZone  string `gorm:"size:64;not null;default:'UTC'"`
	MaxUser   int    `gorm:"not null;default:0"`
	CreatedAt time.Time
}

func (v1Tenant) TableName() string { return "tenants" }

type v1Site struct {
	AppID     string `gorm:"primaryKey;size:32;column:appid"`
	Orgi      string `gorm:"size:32;not null;index"`
	Name      string `gorm:"size:128;not null"`
	Origins   string `gorm:"type:text;not null"`
	Config    string `gorm:"type:text;not null"`
	TextLimit int    `gorm:"not null;default:0"`
	Disabled  bool   `gorm:"not null;default:false"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (v1Site) TableName() string { return "sites" }

type v1Agent struct {
	ID           string `gorm:"primaryKey;size:32"`
	Orgi         string `gorm:"size:32;not null;index"`
	Username     string `gorm:"size:64;not null;uniqueIndex"`
	PasswordHash string `gorm:"size:128;not null"`
	Nickname     string `gorm:"size:64;not null"`
	Roles        string `gorm:"size:128;not null"`
	MaxUser      int    `gorm:"not null;default:0"`
	Disabled     bool   `gorm:"not null;default:false"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (v1Agent) TableName() string { return "agents" }

type v1SkillGroup struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index"`
	Name      string `gorm:"size:64;not null"`
	MaxUser   int    `gorm:"not null;default:0"`
	Disabled  bool   `gorm:"not null;default:false"`
	CreatedAt time.Time
}

func (v1SkillGroup) TableName() string { return "skill_groups" }

type v1AgentSkill struct {
	AgentID string `gorm:"primaryKey;size:32"`
	SkillID string `gorm:"primaryKey;size:32;index"`
}

func (v1AgentSkill) TableName() string { return "agent_skills" }

type v1Token struct {
	Hash      string    `gorm:"primaryKey;size:64"`
	AgentID   string    `gorm:"size:32;not null;index"`
	ExpiresAt time.Time `gorm:"not null;index"`
	CreatedAt time.Time
}

func (v1Token) TableName() string { return "tokens" }

type v1Visitor struct {
	AppID     string `gorm:"primaryKey;size:32;column:appid"`
	UserID    string `gorm:"primaryKey;size:64;column:userid"`
	Orgi      string `gorm:"size:32;not null"`
	Nickname  string `gorm:"size:64;not null"`
	CreatedAt time.Time
	LastSeen  time.Time
}

func (v1Visitor) TableName() string { return "visitors" }

type v1Session struct {
	ID          string    `gorm:"primaryKey;size:32"`
	Orgi        string    `gorm:"size:32;not null;index:idx_sessions_queue,priority:1;index:idx_sessions_agent,priority:1"`
	AppID       string    `gorm:"size:32;not null;column:appid;index:idx_sessions_visitor,priority:1"`
	UserID      string    `gorm:"size:64;not null;column:userid;index:idx_sessions_visitor,priority:2"`
	AgentNo     string    `gorm:"size:32;not null;default:'';column:agentno;index:idx_sessions_agent,priority:3;index:idx_sessions_agentno,priority:1"`
	Skill       string    `gorm:"size:32;not null;default:''"`
	Status      string    `gorm:"size:16;not null;index:idx_sessions_queue,priority:2;index:idx_sessions_agent,priority:2;index:idx_sessions_agentno,priority:2"`
	Nickname    string    `gorm:"size:64;not null;default:''"`
	Name        string    `gorm:"size:64;not null;default:''"`
	Phone       string    `gorm:"size:32;not null;default:''"`
	Email       string    `gorm:"size:128;not null;default:''"`
	Memo        string    `gorm:"size:512;not null;default:''"`
	Title       string    `gorm:"size:255;not null;default:''"`
	URL         string    `gorm:"size:1024;not null;default:''"`
	Referrer    string    `gorm:"size:1024;not null;default:''"`
	OSName      string    `gorm:"size:64;not null;default:'';column:osname"`
	Browser     string    `gorm:"size:64;not null;default:''"`
	IP          string    `gorm:"size:64;not null;default:''"`
	LastSeq     int64     `gorm:"not null;default:0"`
	OpenKey     *string   `gorm:"size:100;uniqueIndex:idx_sessions_open"`
	EndBy       string    `gorm:"size:16;not null;default:''"`
	CreatedAt   time.Time `gorm:"index:idx_sessions_queue,priority:3"`
	ServiceTime *time.Time
	EndTime     *time.Time
	UpdatedAt   time.Time
}

func (v1Session) TableName() string { return "sessions" }

type v1Message struct {
	PK           int64  `gorm:"primaryKey;autoIncrement;column:pk"`
	ID           string `gorm:"size:32;not null;uniqueIndex"`
	SessionID    string `gorm:"size:32;not null;column:agentserviceid;uniqueIndex:idx_messages_seq,priority:1;uniqueIndex:idx_messages_client,priority:1"`
	Seq          int64  `gorm:"not null;uniqueIndex:idx_messages_seq,priority:2"`
	ClientID     string `gorm:"size:64;not null;column:clientid;uniqueIndex:idx_messages_client,priority:2"`
	Orgi         string `gorm:"size:32;not null"`
	AppID        string `gorm:"size:32;not null;column:appid;index:idx_messages_visitor,priority:1"`
	USession     string `gorm:"size:64;not null;column:usession;index:idx_messages_visitor,priority:2"`
	Type         string `gorm:"size:16;not null"`
	MsgType      string `gorm:"size:16;not null;column:msgtype"`
	CallType     string `gorm:"size:16;not null;column:calltype"`
	Body         string `gorm:"type:text;not null;column:message"`
	AttachmentID string `gorm:"size:32;not null;default:'';column:attachmentid"`
	UserID       string `gorm:"size:64;not null;column:userid"`
	Username     string `gorm:"size:64;not null;default:''"`
	Nickname     string `gorm:"size:64;not null;default:''"`
	ToUser       string `gorm:"size:64;not null;default:'';column:touser"`
	CreatedAt    time.Time
}

func (v1Message) TableName() string { return "messages" }

type v1AgentState struct {
	AgentID      string `gorm:"primaryKey;size:32"`
	Orgi         string `gorm:"size:32;not null;index"`
	Status       string `gorm:"size:16;not null"`
	Busy         bool   `gorm:"not null;default:false"`
	LastAssigned time.Time
	UpdatedAt    time.Time
}

func (v1AgentState) TableName() string { return "agent_states" }

type v1Setting struct {
	Key   string `gorm:"primaryKey;size:64;column:k"`
	Value string `gorm:"type:text;not null;column:v"`
}

func (v1Setting) TableName() string { return "settings" }
