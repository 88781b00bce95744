package store

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migrateV4 adds the routing fence, the session columns transfers and
// timers need, and the timers and prompts of routing settings.
func migrateV4(tx *gorm.DB, isMySQL bool) error {
	if isMySQL {
		tx = tx.Set("gorm:table_options", mysqlTableOptions)
	}
	m := tx.Migrator()
	if !m.HasTable(&v4RoutingFence{}) {
		if err := m.CreateTable(&v4RoutingFence{}); err != nil {
			return fmt.Errorf("create routing_fences: %w", err)
		}
	}
	for _, col := range []string{"Trans", "TransMemo", "TransTime", "LastVisitorAt", "LastAgentAt", "IdleWarned", "AgentReminded"} {
		if !m.HasColumn(&v4Session{}, col) {
			if err := m.AddColumn(&v4Session{}, col); err != nil {
				return fmt.Errorf("add sessions.%s: %w", col, err)
			}
		}
	}
	for _, col := range []string{"VisitorIdleWarn", "VisitorIdleClose", "AgentNoReply", "QueueTimeout", "VisitorLeftGrace", "WorkingHours", "Prompts", "Lang"} {
		if !m.HasColumn(&v4SessionConfig{}, col) {
			if err := m.AddColumn(&v4SessionConfig{}, col); err != nil {
				return fmt.Errorf("add session_configs.%s: %w", col, err)
			}
		}
	}
	return nil
}

type v4RoutingFence struct {
	Name      string `gorm:"primaryKey;size:32"`
	Token     int64  `gorm:"not null"`
	UpdatedAt time.Time
}

func (v4RoutingFence) TableName() string { return "routing_fences" }

type v4Session struct {
	ID            string `gorm:"primaryKey;size:32"`
	Trans         bool   `gorm:"not null;default:false"`
	TransMemo     string `gorm:"size:512;not null;default:''"`
	TransTime     *time.Time
	LastVisitorAt *time.Time
	LastAgentAt   *time.Time
	IdleWarned    bool `gorm:"not null;default:false"`
	AgentReminded bool `gorm:"not null;default:false"`
}

func (v4Session) TableName() string { return "sessions" }

type v4SessionConfig struct {
	Orgi             string `gorm:"primaryKey;size:32"`
	Skill            string `gorm:"primaryKey;size:32"`
	VisitorIdleWarn  int    `gorm:"not null;default:0"`
	VisitorIdleClose int    `gorm:"not null;default:0"`
	AgentNoReply     int    `gorm:"not null;default:0"`
	QueueTimeout     int    `gorm:"not null;default:0"`
	VisitorLeftGrace int    `gorm:"not null;default:0"`
	WorkingHours     string `gorm:"size:255;not null;default:''"`
	Prompts          string `gorm:"type:text"`
	Lang             string `gorm:"size:16;not null;default:''"`
}

func (v4SessionConfig) TableName() string { return "session_configs" }
