package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migrateV8 adds what running a contact centre from the pages needs:
// disabled tenants, deleted agents, where logins came from, weekly working
// hours and holidays, sites bound to skill groups, tag kinds and visitor
// tags, a canned-reply category tree, login throttling, the audit log and
// invitation records.
//
// Canned replies' old free-text category becomes a category row each; the
// text column stays (unused) because SQLite cannot drop a column that old
// installations may have indexed.
func migrateV8(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	for _, t := range []any{&v8VisitorTag{}, &v8CannedCategory{}, &v8LoginThrottle{}, &v8AuditEntry{}, &v8InviteRecord{}} {
		if !m.HasTable(t) {
			if err := m.CreateTable(t); err != nil {
				return fmt.Errorf("create %T: %w", t, err)
			}
		}
	}
	for _, c := range []struct {
		model any
		field string
	}{
		{&v8Tenant{}, "Disabled"}, {&v8Agent{}, "DeletedAt"}, {&v8Token{}, "IP"}, {&v8Token{}, "UserAgent"},
		{&v8SessionConfig{}, "Schedule"}, {&v8Site{}, "Skills"}, {&v8Tag{}, "Kind"}, {&v8CannedReply{}, "CategoryID"},
	} {
		if !m.HasColumn(c.model, c.field) {
			if err := m.AddColumn(c.model, c.field); err != nil {
				return fmt.Errorf("add %T.%s: %w", c.model, c.field, err)
			}
		}
	}
	return v8Categories(tx)
}

// v8Categories turns each distinct (tenant, owner, category text) of the
// canned replies into a root category and points the replies at it.
func v8Categories(tx *gorm.DB) error {
	var groups []struct {
		Orgi, Owner, Category string
	}
	if err := tx.Raw("SELECT DISTINCT orgi, owner, category FROM canned_replies WHERE category <> '' AND category_id = ''").Scan(&groups).Error; err != nil {
		return fmt.Errorf("read canned categories: %w", err)
	}
	now := time.Now().UTC()
	for _, g := range groups {
		cat := v8CannedCategory{ID: NewID(), Orgi: g.Orgi, Owner: g.Owner, Name: g.Category, CreatedAt: now}
		if err := tx.Create(&cat).Error; err != nil {
			return fmt.Errorf("create canned category %q: %w", g.Category, err)
		}
		if err := tx.Exec("UPDATE canned_replies SET category_id = ? WHERE orgi = ? AND owner = ? AND category = ? AND category_id = ''",
			cat.ID, g.Orgi, g.Owner, g.Category).Error; err != nil {
			return fmt.Errorf("file canned replies under %q: %w", g.Category, err)
		}
	}
	return nil
}

type v8Tenant struct {
	ID       string `gorm:"primaryKey;size:32"`
	Disabled bool   `gorm:"not null;default:false"`
}

func (v8Tenant) TableName() string { return "tenants" }

type v8Agent struct {
	ID        string `gorm:"primaryKey;size:32"`
	DeletedAt *time.Time
}

func (v8Agent) TableName() string { return "agents" }

type v8Token struct {
	Hash      string `gorm:"primaryKey;size:64"`
	IP        string `gorm:"size:64;not null;default:''"`
	UserAgent string `gorm:"size:255;not null;default:''"`
}

func (v8Token) TableName() string { return "tokens" }

type v8SessionConfig struct {
	Orgi     string `gorm:"primaryKey;size:32"`
	Skill    string `gorm:"primaryKey;size:32"`
	Schedule string `gorm:"type:text"`
}

func (v8SessionConfig) TableName() string { return "session_configs" }

type v8Site struct {
	AppID  string `gorm:"primaryKey;size:32;column:appid"`
	Skills string `gorm:"size:1024;not null;default:''"`
}

func (v8Site) TableName() string { return "sites" }

type v8Tag struct {
	ID   string `gorm:"primaryKey;size:32"`
	Kind string `gorm:"size:16;not null;default:'session'"`
}

func (v8Tag) TableName() string { return "tags" }

type v8CannedReply struct {
	ID         string `gorm:"primaryKey;size:32"`
	CategoryID string `gorm:"size:32;not null;default:''"`
}

func (v8CannedReply) TableName() string { return "canned_replies" }

type v8VisitorTag struct {
	AppID     string `gorm:"primaryKey;size:32;column:appid"`
	UserID    string `gorm:"primaryKey;size:64;column:userid"`
	TagID     string `gorm:"primaryKey;size:32;index"`
	Orgi      string `gorm:"size:32;not null"`
	CreatedAt time.Time
}

func (v8VisitorTag) TableName() string { return "visitor_tags" }

type v8CannedCategory struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index:idx_canned_categories,priority:1"`
	Owner     string `gorm:"size:32;not null;default:'';index:idx_canned_categories,priority:2"`
	ParentID  string `gorm:"size:32;not null;default:''"`
	Name      string `gorm:"size:64;not null"`
	CreatedAt time.Time
}

func (v8CannedCategory) TableName() string { return "canned_categories" }

type v8LoginThrottle struct {
	Key         string    `gorm:"primaryKey;size:160"`
	Failures    int       `gorm:"not null;default:0"`
	FirstAt     time.Time `gorm:"not null"`
	LockedUntil *time.Time
	UpdatedAt   time.Time
}

func (v8LoginThrottle) TableName() string { return "login_throttles" }

type v8AuditEntry struct {
	PK        int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	Orgi      string    `gorm:"size:32;not null;index:idx_audit,priority:1"`
	ActorID   string    `gorm:"size:32;not null;default:''"`
	ActorName string    `gorm:"size:64;not null;default:''"`
	Action    string    `gorm:"size:64;not null"`
	Target    string    `gorm:"size:128;not null;default:''"`
	Detail    string    `gorm:"type:text"`
	IP        string    `gorm:"size:64;not null;default:''"`
	CreatedAt time.Time `gorm:"index:idx_audit,priority:2"`
}

func (v8AuditEntry) TableName() string { return "audit_entries" }

type v8InviteRecord struct {
	ID        string    `gorm:"primaryKey;size:32"`
	Orgi      string    `gorm:"size:32;not null;index:idx_invites,priority:1"`
	AppID     string    `gorm:"size:32;not null;column:appid"`
	UserID    string    `gorm:"size:64;not null;column:userid"`
	AgentID   string    `gorm:"size:32;not null"`
	Status    string    `gorm:"size:16;not null"`
	SessionID string    `gorm:"size:32;not null;default:'';column:agentserviceid"`
	ServedBy  string    `gorm:"size:32;not null;default:''"`
	CreatedAt time.Time `gorm:"index:idx_invites,priority:2"`
	UpdatedAt time.Time
}

func (v8InviteRecord) TableName() string { return "invite_records" }
