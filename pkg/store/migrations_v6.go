package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migrateV6 adds what the agent workbench needs.
func migrateV6(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	for _, t := range []any{&v6ReadState{}, &v6Tag{}, &v6SessionTag{}, &v6CannedReply{}, &v6IMMessage{}, &v6IMGroup{}, &v6IMMember{}, &v6IMRead{}} {
		if !m.HasTable(t) {
			if err := m.CreateTable(t); err != nil {
				return fmt.Errorf("create %T: %w", t, err)
			}
		}
	}
	if !m.HasColumn(&v6Session{}, "ServiceSummary") {
		if err := m.AddColumn(&v6Session{}, "ServiceSummary"); err != nil {
			return fmt.Errorf("add sessions.summary: %w", err)
		}
	}
	for _, col := range []string{"Note", "HandledBy", "HandledAt"} {
		if !m.HasColumn(&v6LeaveMessage{}, col) {
			if err := m.AddColumn(&v6LeaveMessage{}, col); err != nil {
				return fmt.Errorf("add leave_messages.%s: %w", col, err)
			}
		}
	}
	return nil
}

type v6ReadState struct {
	AgentID   string `gorm:"primaryKey;size:32"`
	SessionID string `gorm:"primaryKey;size:32;column:agentserviceid"`
	ReadSeq   int64  `gorm:"not null"`
	UpdatedAt time.Time
}

func (v6ReadState) TableName() string { return "read_states" }

type v6Tag struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index"`
	Name      string `gorm:"size:64;not null"`
	Color     string `gorm:"size:32;not null;default:''"`
	CreatedAt time.Time
}

func (v6Tag) TableName() string { return "tags" }

type v6SessionTag struct {
	SessionID string `gorm:"primaryKey;size:32;column:agentserviceid"`
	TagID     string `gorm:"primaryKey;size:32;index"`
}

func (v6SessionTag) TableName() string { return "session_tags" }

type v6CannedReply struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index:idx_canned,priority:1"`
	Owner     string `gorm:"size:32;not null;default:'';index:idx_canned,priority:2"`
	Category  string `gorm:"size:64;not null;default:''"`
	Title     string `gorm:"size:128;not null"`
	Content   string `gorm:"type:text;not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (v6CannedReply) TableName() string { return "canned_replies" }

type v6IMMessage struct {
	PK        int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	ID        string    `gorm:"size:32;not null;uniqueIndex"`
	Orgi      string    `gorm:"size:32;not null"`
	From      string    `gorm:"size:32;not null;column:from_agent;uniqueIndex:idx_im_client,priority:1"`
	ClientID  string    `gorm:"size:64;not null;column:clientid;uniqueIndex:idx_im_client,priority:2"`
	Pair      string    `gorm:"size:65;not null;default:'';index:idx_im_pair,priority:1"`
	GroupID   string    `gorm:"size:32;not null;default:'';index:idx_im_group,priority:1"`
	Body      string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"index:idx_im_pair,priority:2;index:idx_im_group,priority:2"`
}

func (v6IMMessage) TableName() string { return "im_messages" }

type v6IMGroup struct {
	ID        string `gorm:"primaryKey;size:32"`
	Orgi      string `gorm:"size:32;not null;index"`
	Name      string `gorm:"size:64;not null"`
	CreatedBy string `gorm:"size:32;not null"`
	CreatedAt time.Time
}

func (v6IMGroup) TableName() string { return "im_groups" }

type v6IMMember struct {
	GroupID string `gorm:"primaryKey;size:32"`
	AgentID string `gorm:"primaryKey;size:32;index"`
	ReadPK  int64  `gorm:"not null;default:0"`
}

func (v6IMMember) TableName() string { return "im_members" }

type v6IMRead struct {
	AgentID string `gorm:"primaryKey;size:32"`
	With    string `gorm:"primaryKey;size:32;column:with_agent"`
	ReadPK  int64  `gorm:"not null;default:0"`
}

func (v6IMRead) TableName() string { return "im_reads" }

type v6Session struct {
	ID             string `gorm:"primaryKey;size:32"`
	ServiceSummary string `gorm:"type:text;column:summary"`
}

func (v6Session) TableName() string { return "sessions" }

type v6LeaveMessage struct {
	ID        string `gorm:"primaryKey;size:32"`
	Note      string `gorm:"type:text"`
	HandledBy string `gorm:"size:32;not null;default:''"`
	HandledAt *time.Time
}

func (v6LeaveMessage) TableName() string { return "leave_messages" }
