package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// MarkRead records that agentID has read session sessionID up to seq (never
// backwards) and returns the read seq now stored.
func (s *Store) MarkRead(ctx context.Context, agentID, sessionID string, seq int64) (int64, error) {
	db := s.db.WithContext(ctx)
	err := db.Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "agent_id"}, {Name: "agentserviceid"}},
		DoUpdates: clause.Set{
			{Column: clause.Column{Name: "read_seq"}, Value: gorm.Expr("CASE WHEN read_seq < ? THEN ? ELSE read_seq END", seq, seq)},
			{Column: clause.Column{Name: "updated_at"}, Value: s.now()},
		},
	}).Create(&ReadState{AgentID: agentID, SessionID: sessionID, ReadSeq: seq, UpdatedAt: s.now()}).Error
	if err != nil {
		return 0, fmt.Errorf("store: mark read %s: %w", sessionID, err)
	}
	var st ReadState
	if err := db.Where("agent_id = ? AND agentserviceid = ?", agentID, sessionID).Take(&st).Error; err != nil {
		return 0, fmt.Errorf("store: mark read %s: %w", sessionID, err)
	}
	return st.ReadSeq, nil
}

// ReadSeqs returns how far agentID has read each of the sessions given.
func (s *Store) ReadSeqs(ctx context.Context, agentID string, sessionIDs []string) (map[string]int64, error) {
	out := make(map[string]int64, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return out, nil
	}
	var rows []ReadState
	if err := s.db.WithContext(ctx).Where("agent_id = ? AND agentserviceid IN ?", agentID, sessionIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: read states: %w", err)
	}
	for _, r := range rows {
		out[r.SessionID] = r.ReadSeq
	}
	return out, nil
}

// CountVisitorMessagesAfter counts, per session, the visitor's messages
// with seq above the given one: the unread. One query for all of them.
func (s *Store) CountVisitorMessagesAfter(ctx context.Context, after map[string]int64) (map[string]int, error) {
	out := make(map[string]int, len(after))
	if len(after) == 0 {
		return out, nil
	}
	conds := make([]string, 0, len(after))
	args := make([]any, 0, 2*len(after))
	for id, seq := range after {
		out[id] = 0
		conds = append(conds, "(agentserviceid = ? AND seq > ?)")
		args = append(args, id, seq)
	}
	var rows []struct {
		SessionID string `gorm:"column:agentserviceid"`
		N         int    `gorm:"column:n"`
	}
	err := s.db.WithContext(ctx).Model(&Message{}).Select("agentserviceid, COUNT(*) AS n").
		Where("calltype = ?", "in").Where("("+strings.Join(conds, " OR ")+")", args...).Group("agentserviceid").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: unread: %w", err)
	}
	for _, r := range rows {
		out[r.SessionID] = r.N
	}
	return out, nil
}

// ListTraces returns a visitor's latest page views, newest first.
func (s *Store) ListTraces(ctx context.Context, appid, userid string, limit int) ([]VisitorTrace, error) {
	var out []VisitorTrace
	err := s.db.WithContext(ctx).Where("appid = ? AND userid = ?", appid, userid).Order("created_at DESC, pk DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: traces: %w", err)
	}
	return out, nil
}

// ListVisitorSessions returns a visitor's sessions, newest first.
func (s *Store) ListVisitorSessions(ctx context.Context, appid, userid string, limit int) ([]Session, error) {
	var out []Session
	err := s.db.WithContext(ctx).Where("appid = ? AND userid = ?", appid, userid).Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: visitor sessions: %w", err)
	}
	return out, nil
}

// SetSummary saves the agent's summary of a session.
func (s *Store) SetSummary(ctx context.Context, sessionID, summary string) error {
	res := s.db.WithContext(ctx).Model(&Session{}).Where("id = ?", sessionID).Update("summary", summary)
	if res.Error != nil {
		return fmt.Errorf("store: summary of %s: %w", sessionID, res.Error)
	}
	return nil
}

// ListLeaveMessages returns the tenant's left messages in a status, newest
// first.
func (s *Store) ListLeaveMessages(ctx context.Context, orgi, status string, limit int) ([]LeaveMessage, error) {
	var out []LeaveMessage
	if err := s.db.WithContext(ctx).Where("orgi = ? AND status = ?", orgi, status).Order("created_at DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: leave messages: %w", err)
	}
	return out, nil
}

// GetLeaveMessage returns one left message.
func (s *Store) GetLeaveMessage(ctx context.Context, id string) (LeaveMessage, error) {
	var m LeaveMessage
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return LeaveMessage{}, notFound(err, "leave message %s", id)
	}
	return m, nil
}

// HandleLeaveMessage records an agent's handling of a left message.
func (s *Store) HandleLeaveMessage(ctx context.Context, id, status, note, by string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&LeaveMessage{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "note": note, "handled_by": by, "handled_at": utc(at)}).Error
	if err != nil {
		return fmt.Errorf("store: handle leave message %s: %w", id, err)
	}
	return nil
}
