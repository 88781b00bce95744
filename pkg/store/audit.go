package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AppendAudit records one admin action; CreatedAt is filled when zero.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	if e.Orgi == "" || e.Action == "" {
		return errors.New("store: append audit: orgi and action are required")
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	e.CreatedAt, e.PK = utc(e.CreatedAt), 0
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("store: append audit: %w", err)
	}
	return nil
}

// AuditQuery selects a tenant's audit entries, newest first.
type AuditQuery struct {
	Orgi     string
	From, To time.Time // [From, To); zero: open
	ActorID  string
	// Action matches the action or any below it: "agents" matches
	// "agents.update" and "agents.logins.delete".
	Action string
	// Text is found in the target, the actor's name or the detail.
	Text   string
	Before *AuditCursor
	Limit  int // 0: DefaultAuditPage; at most MaxAuditPage
}

// AuditCursor is where a page ended.
type AuditCursor struct {
	At time.Time
	PK int64
}

// AuditPage is a page of entries; Next (nil: the last page) continues it.
type AuditPage struct {
	Entries []AuditEntry
	Next    *AuditCursor
}

// Page sizes of ListAudit.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
)

// ListAudit returns a page of q's entries, newest first.
func (s *Store) ListAudit(ctx context.Context, q AuditQuery) (AuditPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultAuditPage
	}
	limit = min(limit, MaxAuditPage)
	db := s.db.WithContext(ctx).Where("orgi = ?", q.Orgi)
	if !q.From.IsZero() {
		db = db.Where("created_at >= ?", utc(q.From))
	}
	if !q.To.IsZero() {
		db = db.Where("created_at < ?", utc(q.To))
	}
	if q.ActorID != "" {
		db = db.Where("actor_id = ?", q.ActorID)
	}
	if q.Action != "" {
		below := q.Action + "."
		db = db.Where("(action = ? OR SUBSTR(action, 1, ?) = ?)", q.Action, len(below), below)
	}
	if q.Text != "" {
		p := containsPattern(q.Text)
		db = db.Where("(target LIKE ? ESCAPE '!' OR actor_name LIKE ? ESCAPE '!' OR detail LIKE ? ESCAPE '!')", p, p, p)
	}
	if c := q.Before; c != nil {
		at := utc(c.At)
		db = db.Where("(created_at < ? OR (created_at = ? AND pk < ?))", at, at, c.PK)
	}
	var es []AuditEntry
	if err := db.Order("created_at DESC, pk DESC").Limit(limit + 1).Find(&es).Error; err != nil {
		return AuditPage{}, fmt.Errorf("store: list audit of %s: %w", q.Orgi, err)
	}
	page := AuditPage{Entries: es}
	if len(es) > limit {
		page.Entries = es[:limit]
		last := page.Entries[limit-1]
		page.Next = &AuditCursor{At: utc(last.CreatedAt), PK: last.PK}
	}
	for i := range page.Entries {
		page.Entries[i].CreatedAt = utc(page.Entries[i].CreatedAt)
	}
	return page, nil
}
