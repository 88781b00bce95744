package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// LoginThrottles returns the counters of keys that exist.
func (s *Store) LoginThrottles(ctx context.Context, keys ...string) ([]LoginThrottle, error) {
	var rows []LoginThrottle
	if len(keys) == 0 {
		return rows, nil
	}
	if err := s.db.WithContext(ctx).Where("`key` IN ?", keys).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: login throttles: %w", err)
	}
	for i := range rows {
		rows[i].FirstAt, rows[i].LockedUntil = utc(rows[i].FirstAt), utcPtr(rows[i].LockedUntil)
	}
	return rows, nil
}

// ChangeLoginThrottle runs change on key's counter (a fresh one with no
// failures when there is none) while holding it, and stores what change
// leaves: gateways counting the same key at once each see the other's
// failure.
func (s *Store) ChangeLoginThrottle(ctx context.Context, key string, change func(*LoginThrottle)) error {
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Create the row first, so that the locking read below always has a
		// row to lock (a missing one would let two first failures race).
		fresh := LoginThrottle{Key: key, FirstAt: now, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error; err != nil {
			return err
		}
		var r LoginThrottle
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("`key` = ?", key).Take(&r).Error; err != nil {
			return err
		}
		r.FirstAt, r.LockedUntil = utc(r.FirstAt), utcPtr(r.LockedUntil)
		change(&r)
		return tx.Model(&LoginThrottle{}).Where("`key` = ?", key).Updates(map[string]any{
			"failures": r.Failures, "first_at": utc(r.FirstAt), "locked_until": utcPtr(r.LockedUntil), "updated_at": now,
		}).Error
	})
	if err != nil {
		return fmt.Errorf("store: change login throttle: %w", err)
	}
	return nil
}

// DeleteLoginThrottle drops key's counter (a success, an admin's unlock).
func (s *Store) DeleteLoginThrottle(ctx context.Context, key string) error {
	if err := s.db.WithContext(ctx).Where("`key` = ?", key).Delete(&LoginThrottle{}).Error; err != nil {
		return fmt.Errorf("store: delete login throttle: %w", err)
	}
	return nil
}

// DeleteStaleLoginThrottles drops the counters unchanged since idleSince
// that hold no lock at now, and returns how many.
func (s *Store) DeleteStaleLoginThrottles(ctx context.Context, idleSince, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("updated_at < ? AND (locked_until IS NULL OR locked_until <= ?)", utc(idleSince), utc(now)).
		Delete(&LoginThrottle{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete stale login throttles: %w", res.Error)
	}
	return res.RowsAffected, nil
}
