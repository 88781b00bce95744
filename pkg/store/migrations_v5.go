package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migrateV5 adds what the visitor side needs: attachments, leave messages,
// page trails, the blacklist, ratings and attachment facts on messages.
func migrateV5(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	for _, t := range []any{&v5Attachment{}, &v5LeaveMessage{}, &v5VisitorTrace{}, &v5Blacklist{}} {
		if !m.HasTable(t) {
			if err := m.CreateTable(t); err != nil {
				return fmt.Errorf("create %T: %w", t, err)
			}
		}
	}
	for _, col := range []string{"SatisLevel", "SatisComment", "SatisTime"} {
		if !m.HasColumn(&v5Session{}, col) {
			if err := m.AddColumn(&v5Session{}, col); err != nil {
				return fmt.Errorf("add sessions.%s: %w", col, err)
			}
		}
	}
	for _, col := range []string{"Filename", "Filesize", "Mime", "URL"} {
		if !m.HasColumn(&v5Message{}, col) {
			if err := m.AddColumn(&v5Message{}, col); err != nil {
				return fmt.Errorf("add messages.%s: %w", col, err)
			}
		}
	}
	return nil
}

type v5Attachment struct {
	ID        string `gorm:"primaryKey;size:32"`
	Token     string `gorm:"size:64;not null"`
	Orgi      string `gorm:"size:32;not null"`
	AppID     string `gorm:"size:32;not null;column:appid"`
	Owner     string `gorm:"size:64;not null"`
	OwnerKind string `gorm:"size:8;not null"`
	SessionID string `gorm:"size:32;not null;default:'';column:agentserviceid"`
	Filename  string `gorm:"size:255;not null"`
	Mime      string `gorm:"size:100;not null"`
	Size      int64  `gorm:"not null"`
	Data      []byte `gorm:"type:longblob;not null"`
	CreatedAt time.Time
}

func (v5Attachment) TableName() string { return "attachments" }

type v5LeaveMessage struct {
	ID        string    `gorm:"primaryKey;size:32"`
	Orgi      string    `gorm:"size:32;not null;index:idx_leave_inbox,priority:1"`
	AppID     string    `gorm:"size:32;not null;column:appid"`
	UserID    string    `gorm:"size:64;not null;column:userid"`
	Name      string    `gorm:"size:64;not null;default:''"`
	Phone     string    `gorm:"size:32;not null;default:''"`
	Email     string    `gorm:"size:128;not null;default:''"`
	Content   string    `gorm:"type:text;not null"`
	Status    string    `gorm:"size:16;not null;index:idx_leave_inbox,priority:2"`
	CreatedAt time.Time `gorm:"index:idx_leave_inbox,priority:3"`
}

func (v5LeaveMessage) TableName() string { return "leave_messages" }

type v5VisitorTrace struct {
	PK        int64     `gorm:"primaryKey;autoIncrement;column:pk"`
	Orgi      string    `gorm:"size:32;not null"`
	AppID     string    `gorm:"size:32;not null;column:appid;index:idx_traces_visitor,priority:1"`
	UserID    string    `gorm:"size:64;not null;column:userid;index:idx_traces_visitor,priority:2"`
	Title     string    `gorm:"size:255;not null;default:''"`
	URL       string    `gorm:"size:1024;not null;default:'';column:url"`
	Referrer  string    `gorm:"size:1024;not null;default:''"`
	CreatedAt time.Time `gorm:"index:idx_traces_visitor,priority:3"`
}

func (v5VisitorTrace) TableName() string { return "visitor_traces" }

type v5Blacklist struct {
	AppID     string    `gorm:"primaryKey;size:32;column:appid"`
	UserID    string    `gorm:"primaryKey;size:64;column:userid"`
	Orgi      string    `gorm:"size:32;not null;index"`
	Until     time.Time `gorm:"not null"`
	Reason    string    `gorm:"size:255;not null;default:''"`
	By        string    `gorm:"size:32;not null;default:''"`
	CreatedAt time.Time
}

func (v5Blacklist) TableName() string { return "blacklists" }

type v5Session struct {
	ID           string `gorm:"primaryKey;size:32"`
	SatisLevel   int    `gorm:"not null;default:0"`
	SatisComment string `gorm:"size:512;not null;default:''"`
	SatisTime    *time.Time
}

func (v5Session) TableName() string { return "sessions" }

type v5Message struct {
	PK       int64  `gorm:"primaryKey;autoIncrement;column:pk"`
	Filename string `gorm:"size:255;not null;default:''"`
	Filesize int64  `gorm:"not null;default:0"`
	Mime     string `gorm:"size:100;not null;default:''"`
	URL      string `gorm:"size:255;not null;default:'';column:url"`
}

func (v5Message) TableName() string { return "messages" }
