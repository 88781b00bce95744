package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// PutAttachment stores an upload; ID and Token are generated.
func (s *Store) PutAttachment(ctx context.Context, a *Attachment) error {
	token := make([]byte, 24)
	_, _ = rand.Read(token) // crypto/rand never fails on supported platforms
	a.ID, a.Token, a.CreatedAt = NewID(), hex.EncodeToString(token), s.now()
	if err := s.db.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("store: put attachment: %w", err)
	}
	return nil
}

// GetAttachment returns an attachment with its bytes; withData false leaves
// them out (a message only needs the facts).
func (s *Store) GetAttachment(ctx context.Context, id string, withData bool) (Attachment, error) {
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if !withData {
		q = q.Omit("data")
	}
	var a Attachment
	if err := q.Take(&a).Error; err != nil {
		return Attachment{}, notFound(err, "get attachment %s", id)
	}
	return a, nil
}

// Who uploaded an attachment.
const (
	OwnerVisitor = "visitor"
	OwnerAgent   = "agent"
)

// Image types an attachment may have to be sent as an image; files may
// also be FileTypes.
var (
	ImageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}
	FileTypes  = []string{"application/pdf", "text/plain", "application/zip"}
)

// IsImage reports whether mime is one of ImageTypes.
func IsImage(mime string) bool { return slices.Contains(ImageTypes, mime) }

// URL is the attachment's capability URL (path only).
func (a Attachment) URL() string { return "/files/" + a.ID + "/" + a.Token }

// CreateLeaveMessage stores a left message as not yet processed.
func (s *Store) CreateLeaveMessage(ctx context.Context, m *LeaveMessage) error {
	m.ID, m.Status, m.CreatedAt = NewID(), LeaveNotProcessed, s.now()
	if err := s.db.WithContext(ctx).Create(m).Error; err != nil {
		return fmt.Errorf("store: create leave message: %w", err)
	}
	return nil
}

// Leave message statuses (UCKeFu leavemsgstatus).
const (
	LeaveNotProcessed = "notprocess"
	LeaveProcessed    = "processed"
)

// AddTrace records a page view.
func (s *Store) AddTrace(ctx context.Context, t VisitorTrace) error {
	t.PK, t.CreatedAt = 0, s.now()
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		return fmt.Errorf("store: add trace: %w", err)
	}
	return nil
}

// Block blacklists a visitor until b.Until (replacing an earlier entry).
func (s *Store) Block(ctx context.Context, b Blacklist) error {
	b.Until, b.CreatedAt = utc(b.Until), s.now()
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&b).Error
	if err != nil {
		return fmt.Errorf("store: block %s/%s: %w", b.AppID, b.UserID, err)
	}
	return nil
}

// Unblock lifts a visitor's block; ErrNotFound if there was none.
func (s *Store) Unblock(ctx context.Context, orgi, appid, userid string) error {
	res := s.db.WithContext(ctx).Where("orgi = ? AND appid = ? AND userid = ?", orgi, appid, userid).Delete(&Blacklist{})
	return touched(res, "unblock %s/%s", appid, userid)
}

// Blocked returns the visitor's block if it is still in force.
func (s *Store) Blocked(ctx context.Context, appid, userid string) (Blacklist, bool, error) {
	var b Blacklist
	err := s.db.WithContext(ctx).Where("appid = ? AND userid = ? AND until > ?", appid, userid, s.now()).Take(&b).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return Blacklist{}, false, nil
	case err != nil:
		return Blacklist{}, false, fmt.Errorf("store: blocked %s/%s: %w", appid, userid, err)
	}
	return b, true, nil
}

// RateSession records the visitor's rating of a session that was served
// (in service, or ended), once; it reports false if the session was rated
// already or never reached an agent.
func (s *Store) RateSession(ctx context.Context, id string, level int, comment string, at time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Session{}).Where("id = ? AND agentno <> '' AND status IN ? AND satis_level = 0", id, []string{protocol.SessionInService, protocol.SessionEnd}).
		Updates(map[string]any{"satis_level": level, "satis_comment": comment, "satis_time": utc(at)})
	if res.Error != nil {
		return false, fmt.Errorf("store: rate session %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}
