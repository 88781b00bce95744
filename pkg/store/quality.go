package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// ReviewLine is one scored item of a review, with the name and weight the
// item had when it was scored (QualityReview.Items holds them as JSON).
type ReviewLine struct {
	Item   string `json:"item"`
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	Score  int    `json:"score"`
}

// Lines decodes the review's scored items.
func (r QualityReview) Lines() ([]ReviewLine, error) {
	var out []ReviewLine
	if err := json.Unmarshal([]byte(r.Items), &out); err != nil {
		return nil, fmt.Errorf("store: review of %s: items: %w", r.SessionID, err)
	}
	return out, nil
}

// QualityItems returns the tenant's checklist, in order.
func (s *Store) QualityItems(ctx context.Context, orgi string) ([]QualityItem, error) {
	out := []QualityItem{}
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("position, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: quality items of %s: %w", orgi, err)
	}
	return out, nil
}

// ReplaceQualityItems makes items (Name and Weight; ID to keep an existing
// one) the tenant's checklist, in their order, and returns it. Items left
// out are removed; old reviews keep their own copy of them. An ID that is
// not one of the tenant's items is ErrNotFound.
func (s *Store) ReplaceQualityItems(ctx context.Context, orgi string, items []QualityItem) ([]QualityItem, error) {
	items = slices.Clone(items)
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old []QualityItem
		if err := tx.Where("orgi = ?", orgi).Find(&old).Error; err != nil {
			return err
		}
		created := make(map[string]time.Time, len(old))
		for _, it := range old {
			created[it.ID] = it.CreatedAt
		}
		keep := make([]string, 0, len(items))
		for i := range items {
			it := &items[i]
			if it.ID == "" {
				it.ID, it.CreatedAt = NewID(), now
			} else if at, ok := created[it.ID]; ok {
				it.CreatedAt = at
			} else {
				return fmt.Errorf("quality item %s: %w", it.ID, ErrNotFound)
			}
			it.Orgi, it.Position, it.UpdatedAt = orgi, i, now
			keep = append(keep, it.ID)
		}
		del := tx.Where("orgi = ?", orgi)
		if len(keep) > 0 {
			del = del.Where("id NOT IN ?", keep)
		}
		if err := del.Delete(&QualityItem{}).Error; err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "id"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "weight", "position", "updated_at"}),
		}).Create(&items).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: replace quality items of %s: %w", orgi, err)
	}
	return items, nil
}

// SaveReview inserts or replaces the review of a conversation — keeping
// when it was first made — with its scored items, and records a `reviewed`
// event, in one transaction. It returns the stored review.
func (s *Store) SaveReview(ctx context.Context, r QualityReview, lines []ReviewLine) (QualityReview, error) {
	items, err := json.Marshal(lines)
	if err != nil {
		return QualityReview{}, fmt.Errorf("store: save review: %w", err)
	}
	now := s.now()
	r.Items, r.CreatedAt, r.UpdatedAt = string(items), now, now
	ev := SessionEvent{
		SessionID: r.SessionID, Orgi: r.Orgi, Kind: protocol.SessionReviewed, Actor: r.ReviewerID, Target: r.AgentNo,
		Detail: strconv.FormatFloat(r.Score, 'f', 1, 64), CreatedAt: now,
	}
	var stored QualityReview
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "agentserviceid"}},
			DoUpdates: clause.AssignmentColumns([]string{"agentno", "reviewer_id", "reviewer_name", "score", "items", "comment", "updated_at"}),
		}).Create(&r).Error
		if err != nil {
			return err
		}
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		return tx.Where("agentserviceid = ?", r.SessionID).Take(&stored).Error
	})
	if err != nil {
		return QualityReview{}, fmt.Errorf("store: save review of %s: %w", r.SessionID, err)
	}
	return stored, nil
}

// GetReview returns the review of a conversation (ErrNotFound if none).
func (s *Store) GetReview(ctx context.Context, sessionID string) (QualityReview, error) {
	var r QualityReview
	if err := s.db.WithContext(ctx).Where("agentserviceid = ?", sessionID).Take(&r).Error; err != nil {
		return QualityReview{}, notFound(err, "review of %s", sessionID)
	}
	return r, nil
}

// ReviewScores returns the listed conversations' review scores; those not
// reviewed are absent.
func (s *Store) ReviewScores(ctx context.Context, sessionIDs []string) (map[string]float64, error) {
	out := make(map[string]float64, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return out, nil
	}
	var rows []QualityReview
	if err := s.db.WithContext(ctx).Select("agentserviceid, score").Where("agentserviceid IN ?", sessionIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: review scores: %w", err)
	}
	for _, r := range rows {
		out[r.SessionID] = r.Score
	}
	return out, nil
}

// ReviewQuery selects reviews, the latest made first. Zero fields do not
// filter.
type ReviewQuery struct {
	Orgi  string
	Scope ChatScope // of the conversations reviewed
	// AgentNo: the reviews of this agent's conversations.
	AgentNo string
	// From and To bound when the review was first made: From <= it < To.
	From, To time.Time
	Before   *ReviewCursor
	Limit    int // clamped to [1, 200]; 0: 50
}

// ReviewCursor is where a page of reviews ended.
type ReviewCursor struct {
	At        time.Time
	SessionID string
}

// ReviewedSession is a review and the conversation it scores.
type ReviewedSession struct {
	Review  QualityReview
	Session Session
}

// ReviewPage is a page of reviews; Next is set when there are more.
type ReviewPage struct {
	Reviews []ReviewedSession
	Next    *ReviewCursor
}

// ListReviews returns a page of the reviews q selects.
func (s *Store) ListReviews(ctx context.Context, q ReviewQuery) (ReviewPage, error) {
	if q.Orgi == "" {
		return ReviewPage{}, errors.New("store: list reviews: orgi is required")
	}
	limit := clampLimit(q.Limit)
	db := s.db.WithContext(ctx).Table("quality_reviews AS qr").Select("qr.*").
		Joins("JOIN sessions s ON s.id = qr.agentserviceid").Where("qr.orgi = ?", q.Orgi)
	db = q.Scope.where(db)
	if q.AgentNo != "" {
		db = db.Where("qr.agentno = ?", q.AgentNo)
	}
	if !q.From.IsZero() {
		db = db.Where("qr.created_at >= ?", utc(q.From))
	}
	if !q.To.IsZero() {
		db = db.Where("qr.created_at < ?", utc(q.To))
	}
	if q.Before != nil {
		at := utc(q.Before.At)
		db = db.Where("qr.created_at <= ? AND (qr.created_at < ? OR qr.agentserviceid < ?)", at, at, q.Before.SessionID)
	}
	var reviews []QualityReview
	if err := db.Order("qr.created_at DESC, qr.agentserviceid DESC").Limit(limit + 1).Find(&reviews).Error; err != nil {
		return ReviewPage{}, fmt.Errorf("store: list reviews: %w", err)
	}
	var page ReviewPage
	if len(reviews) > limit {
		reviews = reviews[:limit]
		last := reviews[limit-1]
		page.Next = &ReviewCursor{At: last.CreatedAt, SessionID: last.SessionID}
	}
	ids := make([]string, len(reviews))
	for i, r := range reviews {
		ids[i] = r.SessionID
	}
	var sessions []Session
	if len(ids) > 0 {
		if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&sessions).Error; err != nil {
			return ReviewPage{}, fmt.Errorf("store: list reviews: %w", err)
		}
	}
	byID := make(map[string]Session, len(sessions))
	for _, sess := range sessions {
		byID[sess.ID] = sess
	}
	page.Reviews = make([]ReviewedSession, len(reviews))
	for i, r := range reviews {
		page.Reviews[i] = ReviewedSession{Review: r, Session: byID[r.SessionID]}
	}
	return page, nil
}
