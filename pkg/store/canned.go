package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Canned replies and their category trees: one tree for the tenant (Owner
// empty) and one per agent. The rules of paths, moves and imports are
// pkg/canned's; this file keeps sibling names unique and writes atomically.

// maxCannedList bounds one listing of canned replies.
const maxCannedList = 500

// ListCanned returns the tenant's replies and agentID's own, matching q
// (in title or content) when q is not empty, by title.
func (s *Store) ListCanned(ctx context.Context, orgi, agentID, q string) ([]CannedReply, error) {
	db := s.db.WithContext(ctx).Where("orgi = ? AND (owner = '' OR owner = ?)", orgi, agentID)
	if q = strings.TrimSpace(q); q != "" {
		like := containsPattern(q)
		db = db.Where("(title LIKE ? ESCAPE '!' OR content LIKE ? ESCAPE '!')", like, like)
	}
	var out []CannedReply
	if err := db.Order("title, id").Limit(maxCannedList).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: canned replies: %w", err)
	}
	return out, nil
}

// CannedOf returns every reply of one owner ("" for the tenant's).
func (s *Store) CannedOf(ctx context.Context, orgi, owner string) ([]CannedReply, error) {
	var out []CannedReply
	if err := s.db.WithContext(ctx).Where("orgi = ? AND owner = ?", orgi, owner).Order("title, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: canned replies of %q: %w", owner, err)
	}
	return out, nil
}

// GetCanned returns one canned reply.
func (s *Store) GetCanned(ctx context.Context, id string) (CannedReply, error) {
	var c CannedReply
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
		return CannedReply{}, notFound(err, "canned reply %s", id)
	}
	return c, nil
}

// SaveCanned inserts (no ID) or updates a canned reply.
func (s *Store) SaveCanned(ctx context.Context, c *CannedReply) error {
	now := s.now()
	c.UpdatedAt = now
	var err error
	if c.ID == "" {
		c.ID, c.CreatedAt = NewID(), now
		err = s.db.WithContext(ctx).Create(c).Error
	} else {
		err = s.db.WithContext(ctx).Model(&CannedReply{}).Where("id = ?", c.ID).
			Updates(map[string]any{"category_id": c.CategoryID, "title": c.Title, "content": c.Content, "owner": c.Owner, "updated_at": now}).Error
	}
	if err != nil {
		return fmt.Errorf("store: save canned reply: %w", err)
	}
	return nil
}

// DeleteCanned removes a canned reply.
func (s *Store) DeleteCanned(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&CannedReply{}).Error; err != nil {
		return fmt.Errorf("store: delete canned reply: %w", err)
	}
	return nil
}

// CannedCategories returns the categories of the owners given ("" for the
// tenant's) in orgi.
func (s *Store) CannedCategories(ctx context.Context, orgi string, owners ...string) ([]CannedCategory, error) {
	var out []CannedCategory
	if err := s.db.WithContext(ctx).Where("orgi = ? AND owner IN ?", orgi, owners).Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: canned categories: %w", err)
	}
	return out, nil
}

// CannedCounts returns how many replies each category of the owners holds.
func (s *Store) CannedCounts(ctx context.Context, orgi string, owners ...string) (map[string]int, error) {
	var rows []struct {
		CategoryID string
		N          int
	}
	err := s.db.WithContext(ctx).Model(&CannedReply{}).Select("category_id, COUNT(*) AS n").
		Where("orgi = ? AND owner IN ? AND category_id <> ''", orgi, owners).Group("category_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: canned counts: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.CategoryID] = r.N
	}
	return out, nil
}

// GetCannedCategory returns one category.
func (s *Store) GetCannedCategory(ctx context.Context, id string) (CannedCategory, error) {
	var c CannedCategory
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
		return CannedCategory{}, notFound(err, "canned category %s", id)
	}
	return c, nil
}

// CreateCannedCategory adds a category; ErrConflict if its parent has a
// child of that name (ignoring case) already.
func (s *Store) CreateCannedCategory(ctx context.Context, c *CannedCategory) error {
	c.ID, c.CreatedAt = NewID(), s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := categoryNameFree(tx, *c); err != nil {
			return err
		}
		return tx.Create(c).Error
	})
	if err != nil {
		return fmt.Errorf("store: create canned category: %w", err)
	}
	return nil
}

// UpdateCannedCategory renames and/or moves a category (the caller has
// checked that the move makes no cycle).
func (s *Store) UpdateCannedCategory(ctx context.Context, c CannedCategory) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := categoryNameFree(tx, c); err != nil {
			return err
		}
		res := tx.Model(&CannedCategory{}).Where("id = ?", c.ID).Updates(map[string]any{"name": c.Name, "parent_id": c.ParentID})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("store: update canned category %s: %w", c.ID, err)
	}
	return nil
}

func categoryNameFree(tx *gorm.DB, c CannedCategory) error {
	var n int64
	err := tx.Model(&CannedCategory{}).
		Where("orgi = ? AND owner = ? AND parent_id = ? AND LOWER(name) = LOWER(?) AND id <> ?", c.Orgi, c.Owner, c.ParentID, c.Name, c.ID).Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("category %q: %w", c.Name, ErrConflict)
	}
	return nil
}

// DeleteCannedCategory removes a category. With moveTo empty it must be
// empty (ErrConflict otherwise); else its replies and child categories
// move into moveTo first (the caller has checked moveTo is not inside it).
func (s *Store) DeleteCannedCategory(ctx context.Context, id, moveTo string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var replies, kids int64
		if err := tx.Model(&CannedReply{}).Where("category_id = ?", id).Count(&replies).Error; err != nil {
			return err
		}
		var children []CannedCategory
		if err := tx.Where("parent_id = ?", id).Find(&children).Error; err != nil {
			return err
		}
		kids = int64(len(children))
		if moveTo == "" && replies+kids > 0 {
			return fmt.Errorf("it holds %d replies and %d categories: %w", replies, kids, ErrConflict)
		}
		if replies > 0 {
			if err := tx.Model(&CannedReply{}).Where("category_id = ?", id).Update("category_id", moveTo).Error; err != nil {
				return err
			}
		}
		for _, child := range children {
			child.ParentID = moveTo
			if err := categoryNameFree(tx, child); err != nil {
				return err
			}
			if err := tx.Model(&CannedCategory{}).Where("id = ?", child.ID).Update("parent_id", moveTo).Error; err != nil {
				return err
			}
		}
		res := tx.Where("id = ?", id).Delete(&CannedCategory{})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("store: delete canned category %s: %w", id, err)
	}
	return nil
}

// WriteCanned writes at once new categories (ids given, parents first),
// the replies to create and those to update (their content).
func (s *Store) WriteCanned(ctx context.Context, cats []CannedCategory, create, update []CannedReply) error {
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i := range cats {
			cats[i].CreatedAt = now
			if err := tx.Create(&cats[i]).Error; err != nil {
				return err
			}
		}
		for i := range create {
			create[i].ID, create[i].CreatedAt, create[i].UpdatedAt = NewID(), now, now
		}
		if len(create) > 0 {
			if err := tx.CreateInBatches(create, 200).Error; err != nil {
				return err
			}
		}
		for _, r := range update {
			if err := tx.Model(&CannedReply{}).Where("id = ?", r.ID).Updates(map[string]any{"content": r.Content, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write canned replies: %w", err)
	}
	return nil
}
