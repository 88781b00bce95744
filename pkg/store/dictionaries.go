package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Tags, the visitors' and conversations' tag links, and the blacklist as
// the admin pages list it.

// CreateTag adds a tenant tag; ErrConflict if the tenant has a tag of that
// kind and name already (names compared ignoring case).
func (s *Store) CreateTag(ctx context.Context, t *Tag) error {
	t.ID, t.CreatedAt = NewID(), s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tagNameFree(tx, *t); err != nil {
			return err
		}
		return tx.Create(t).Error
	})
	if err != nil {
		return fmt.Errorf("store: create tag: %w", err)
	}
	return nil
}

// UpdateTag writes t's name, colour and kind. A tag that changes kind
// loses its links: what it labelled is not of the new kind.
func (s *Store) UpdateTag(ctx context.Context, t Tag) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old Tag
		if err := tx.Where("id = ?", t.ID).Take(&old).Error; err != nil {
			return notFound(err, "tag %s", t.ID)
		}
		if err := tagNameFree(tx, t); err != nil {
			return err
		}
		if old.Kind != t.Kind {
			if err := unlinkTag(tx, t.ID); err != nil {
				return err
			}
		}
		return tx.Model(&Tag{}).Where("id = ?", t.ID).Updates(map[string]any{"name": t.Name, "color": t.Color, "kind": t.Kind}).Error
	})
	if err != nil {
		return fmt.Errorf("store: update tag %s: %w", t.ID, err)
	}
	return nil
}

// tagNameFree refuses a name another tag of the tenant and kind has.
func tagNameFree(tx *gorm.DB, t Tag) error {
	var n int64
	err := tx.Model(&Tag{}).Where("orgi = ? AND kind = ? AND LOWER(name) = LOWER(?) AND id <> ?", t.Orgi, t.Kind, t.Name, t.ID).Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("tag %q: %w", t.Name, ErrConflict)
	}
	return nil
}

func unlinkTag(tx *gorm.DB, id string) error {
	if err := tx.Where("tag_id = ?", id).Delete(&SessionTag{}).Error; err != nil {
		return err
	}
	return tx.Where("tag_id = ?", id).Delete(&VisitorTag{}).Error
}

// GetTag returns one tag.
func (s *Store) GetTag(ctx context.Context, id string) (Tag, error) {
	var t Tag
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&t).Error; err != nil {
		return Tag{}, notFound(err, "tag %s", id)
	}
	return t, nil
}

// DeleteTag removes a tag and everything it labelled.
func (s *Store) DeleteTag(ctx context.Context, id string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := unlinkTag(tx, id); err != nil {
			return err
		}
		return tx.Where("id = ?", id).Delete(&Tag{}).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete tag %s: %w", id, err)
	}
	return nil
}

// ListTags returns the tenant's tags of every kind, by name.
func (s *Store) ListTags(ctx context.Context, orgi string) ([]Tag, error) {
	var out []Tag
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: tags: %w", err)
	}
	return out, nil
}

// SessionTags returns a session's tag ids.
func (s *Store) SessionTags(ctx context.Context, sessionID string) ([]string, error) {
	var out []string
	if err := s.db.WithContext(ctx).Model(&SessionTag{}).Where("agentserviceid = ?", sessionID).Order("tag_id").Pluck("tag_id", &out).Error; err != nil {
		return nil, fmt.Errorf("store: session tags: %w", err)
	}
	return out, nil
}

// SetSessionTags replaces a session's tags.
func (s *Store) SetSessionTags(ctx context.Context, sessionID string, tagIDs []string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("agentserviceid = ?", sessionID).Delete(&SessionTag{}).Error; err != nil {
			return fmt.Errorf("store: set tags: %w", err)
		}
		for _, id := range tagIDs {
			if err := tx.Create(&SessionTag{SessionID: sessionID, TagID: id}).Error; err != nil {
				return fmt.Errorf("store: set tags: %w", err)
			}
		}
		return nil
	})
}

// VisitorTags returns a visitor's tag ids.
func (s *Store) VisitorTags(ctx context.Context, appid, userid string) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&VisitorTag{}).Where("appid = ? AND userid = ?", appid, userid).Order("tag_id").Pluck("tag_id", &out).Error
	if err != nil {
		return nil, fmt.Errorf("store: visitor tags: %w", err)
	}
	return out, nil
}

// SetVisitorTags replaces a visitor's tags.
func (s *Store) SetVisitorTags(ctx context.Context, orgi, appid, userid string, tagIDs []string) error {
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("appid = ? AND userid = ?", appid, userid).Delete(&VisitorTag{}).Error; err != nil {
			return err
		}
		for _, id := range tagIDs {
			if err := tx.Create(&VisitorTag{AppID: appid, UserID: userid, TagID: id, Orgi: orgi, CreatedAt: now}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set visitor tags: %w", err)
	}
	return nil
}

// BlacklistQuery selects a page of a tenant's blacklist, the latest
// blocked first.
type BlacklistQuery struct {
	Orgi string
	// Q finds entries whose userid, reason or visitor nickname contains it.
	Q string
	// Expired lists entries whose block has run out too.
	Expired bool
	// Before is where the previous page ended (nil: the first page).
	Before *BlacklistCursor
	Limit  int // 0: the default page; at most maxLimit
}

// BlacklistCursor is the last entry of a page.
type BlacklistCursor struct {
	At            time.Time
	AppID, UserID string
}

// BlacklistRow is an entry with the names the page shows.
type BlacklistRow struct {
	Blacklist
	Nickname string // the visitor's
	ByName   string // the blocking staff member's
}

// SearchBlacklist returns a page of q and, when there may be more, where it
// ended.
func (s *Store) SearchBlacklist(ctx context.Context, q BlacklistQuery) ([]BlacklistRow, *BlacklistCursor, error) {
	limit := q.Limit
	if limit <= 0 || limit > maxLimit {
		limit = defaultLimit
	}
	db := s.db.WithContext(ctx).Table("blacklists b").
		Select("b.*, COALESCE(v.nickname, '') AS nickname, COALESCE(a.nickname, '') AS by_name").
		Joins("LEFT JOIN visitors v ON v.appid = b.appid AND v.userid = b.userid").
		Joins("LEFT JOIN agents a ON a.id = b.`by`"). // by is a keyword: quoted the way both backends read
		Where("b.orgi = ?", q.Orgi)
	if !q.Expired {
		db = db.Where("b.until > ?", s.now())
	}
	if text := strings.TrimSpace(q.Q); text != "" {
		like := containsPattern(text)
		db = db.Where("(b.userid LIKE ? ESCAPE '!' OR b.reason LIKE ? ESCAPE '!' OR v.nickname LIKE ? ESCAPE '!')", like, like, like)
	}
	if c := q.Before; c != nil {
		at := utc(c.At)
		db = db.Where("(b.created_at < ? OR (b.created_at = ? AND (b.appid < ? OR (b.appid = ? AND b.userid < ?))))", at, at, c.AppID, c.AppID, c.UserID)
	}
	var rows []BlacklistRow
	if err := db.Order("b.created_at DESC, b.appid DESC, b.userid DESC").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("store: search blacklist: %w", err)
	}
	if len(rows) <= limit {
		return rows, nil, nil
	}
	rows = rows[:limit]
	last := rows[limit-1]
	return rows, &BlacklistCursor{At: last.CreatedAt, AppID: last.AppID, UserID: last.UserID}, nil
}

// GetBlock returns a visitor's blacklist entry, in force or run out.
func (s *Store) GetBlock(ctx context.Context, orgi, appid, userid string) (Blacklist, error) {
	var b Blacklist
	err := s.db.WithContext(ctx).Where("orgi = ? AND appid = ? AND userid = ?", orgi, appid, userid).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Blacklist{}, fmt.Errorf("store: block %s/%s: %w", appid, userid, ErrNotFound)
	}
	if err != nil {
		return Blacklist{}, fmt.Errorf("store: block %s/%s: %w", appid, userid, err)
	}
	return b, nil
}

// UpdateBlock changes an entry's end and reason (who blocked and when
// stay); ErrNotFound if there is none.
func (s *Store) UpdateBlock(ctx context.Context, b Blacklist) error {
	res := s.db.WithContext(ctx).Model(&Blacklist{}).Where("orgi = ? AND appid = ? AND userid = ?", b.Orgi, b.AppID, b.UserID).
		Updates(map[string]any{"until": utc(b.Until), "reason": b.Reason})
	return touched(res, "update block %s/%s", b.AppID, b.UserID)
}
