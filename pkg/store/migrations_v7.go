package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migrateV7 adds what supervision needs: the skill-group tree, roles'
// rights, conversation events and whispers, supervisors' messages, the
// monitor's minute samples, the archive's search index and quality reviews.
func migrateV7(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	for _, t := range []any{&v7Role{}, &v7SessionEvent{}, &v7SessionNote{}, &v7MonitorSample{}, &v7ArchiveTerm{}, &v7QualityItem{}, &v7QualityReview{}} {
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
		{&v7SkillGroup{}, "ParentID"}, {&v7Session{}, "Archived"}, {&v7Message{}, "Intervened"},
	} {
		if !m.HasColumn(c.model, c.field) {
			if err := m.AddColumn(c.model, c.field); err != nil {
				return fmt.Errorf("add %T.%s: %w", c.model, c.field, err)
			}
		}
	}
	for _, idx := range []string{"idx_sessions_ended", "idx_sessions_unarchived", "idx_sessions_agent_ended"} {
		if !m.HasIndex(&v7Session{}, idx) {
			if err := m.CreateIndex(&v7Session{}, idx); err != nil {
				return fmt.Errorf("create index %s: %w", idx, err)
			}
		}
	}
	return nil
}

type v7SkillGroup struct {
	ID       string `gorm:"primaryKey;size:32"`
	ParentID string `gorm:"size:32;not null;default:''"`
}

func (v7SkillGroup) TableName() string { return "skill_groups" }

type v7Session struct {
	ID       string     `gorm:"primaryKey;size:32"`
	Orgi     string     `gorm:"size:32;not null;index:idx_sessions_ended,priority:1;index:idx_sessions_agent_ended,priority:1"`
	AgentNo  string     `gorm:"size:32;not null;default:'';column:agentno;index:idx_sessions_agent_ended,priority:2"`
	EndTime  *time.Time `gorm:"index:idx_sessions_ended,priority:2;index:idx_sessions_unarchived,priority:2;index:idx_sessions_agent_ended,priority:3"`
	Archived bool       `gorm:"not null;default:false;index:idx_sessions_unarchived,priority:1"`
}

func (v7Session) TableName() string { return "sessions" }

type v7Message struct {
	PK         int64 `gorm:"primaryKey;autoIncrement;column:pk"`
	Intervened bool  `gorm:"not null;default:false"`
}

func (v7Message) TableName() string { return "messages" }

type v7Role struct {
	Orgi      string `gorm:"primaryKey;size:32"`
	Name      string `gorm:"primaryKey;size:32"`
	Rights    string `gorm:"size:64;not null;default:''"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (v7Role) TableName() string { return "roles" }

type v7SessionEvent struct {
	PK        int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	SessionID string    `gorm:"size:32;not null;column:agentserviceid;index:idx_session_events,priority:1"`
	Orgi      string    `gorm:"size:32;not null"`
	Kind      string    `gorm:"size:16;not null"`
	Actor     string    `gorm:"size:32;not null;default:''"`
	Target    string    `gorm:"size:32;not null;default:''"`
	Detail    string    `gorm:"size:512;not null;default:''"`
	CreatedAt time.Time `gorm:"index:idx_session_events,priority:2"`
}

func (v7SessionEvent) TableName() string { return "session_events" }

type v7SessionNote struct {
	PK         int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	ID         string    `gorm:"size:32;not null;uniqueIndex"`
	SessionID  string    `gorm:"size:32;not null;column:agentserviceid;uniqueIndex:idx_notes_client,priority:1;index:idx_notes_session,priority:1"`
	ClientID   string    `gorm:"size:64;not null;column:clientid;uniqueIndex:idx_notes_client,priority:2"`
	Orgi       string    `gorm:"size:32;not null"`
	AuthorID   string    `gorm:"size:32;not null"`
	AuthorName string    `gorm:"size:64;not null;default:''"`
	Body       string    `gorm:"type:text;not null"`
	CreatedAt  time.Time `gorm:"index:idx_notes_session,priority:2"`
}

func (v7SessionNote) TableName() string { return "session_notes" }

type v7MonitorSample struct {
	Orgi    string    `gorm:"primaryKey;size:32"`
	At      time.Time `gorm:"primaryKey"`
	Agents  int       `gorm:"not null;default:0"`
	Busy    int       `gorm:"not null;default:0"`
	Users   int       `gorm:"not null;default:0"`
	InQueue int       `gorm:"not null;default:0;column:inqueue"`
}

func (v7MonitorSample) TableName() string { return "monitor_samples" }

type v7ArchiveTerm struct {
	Orgi      string `gorm:"primaryKey;size:32"`
	Term      int64  `gorm:"primaryKey;autoIncrement:false"`
	SessionID string `gorm:"primaryKey;size:32;column:agentserviceid"`
}

func (v7ArchiveTerm) TableName() string { return "archive_terms" }

type v7QualityItem struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index:idx_quality_items,priority:1"`
	Name      string `gorm:"size:128;not null"`
	Weight    int    `gorm:"not null;default:1"`
	Position  int    `gorm:"not null;default:0;index:idx_quality_items,priority:2"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (v7QualityItem) TableName() string { return "quality_items" }

type v7QualityReview struct {
	SessionID    string    `gorm:"primaryKey;size:32;column:agentserviceid"`
	Orgi         string    `gorm:"size:32;not null;index:idx_quality_agent,priority:1"`
	AgentNo      string    `gorm:"size:32;not null;column:agentno;index:idx_quality_agent,priority:2"`
	ReviewerID   string    `gorm:"size:32;not null"`
	ReviewerName string    `gorm:"size:64;not null;default:''"`
	Score        float64   `gorm:"not null;default:0"`
	Items        string    `gorm:"type:text;not null"`
	Comment      string    `gorm:"type:text"`
	CreatedAt    time.Time `gorm:"index:idx_quality_agent,priority:3"`
	UpdatedAt    time.Time
}

func (v7QualityReview) TableName() string { return "quality_reviews" }
