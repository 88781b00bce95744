package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// UpsertVisitor records a visitor sighting: inserts v, or refreshes LastSeen
// (and Nickname when v carries one) of the existing row. Empty LastSeen and
// CreatedAt mean now.
func (s *Store) UpsertVisitor(ctx context.Context, v Visitor) error {
	if v.AppID == "" || v.UserID == "" {
		return errors.New("store: upsert visitor: appid and userid are required")
	}
	now := s.now()
	if v.CreatedAt.IsZero() {
		v.CreatedAt = now
	}
	if v.LastSeen.IsZero() {
		v.LastSeen = now
	}
	v.CreatedAt, v.LastSeen = utc(v.CreatedAt), utc(v.LastSeen)
	update := []string{"last_seen"}
	if v.Nickname != "" {
		update = append(update, "nickname")
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "appid"}, {Name: "userid"}},
		DoUpdates: clause.AssignmentColumns(update),
	}).Create(&v).Error
	if err != nil {
		return fmt.Errorf("store: upsert visitor %s/%s: %w", v.AppID, v.UserID, err)
	}
	return nil
}

// GetVisitor returns the visitor identity userid on site appid.
func (s *Store) GetVisitor(ctx context.Context, appid, userid string) (Visitor, error) {
	var v Visitor
	if err := s.db.WithContext(ctx).Where("appid = ? AND userid = ?", appid, userid).Take(&v).Error; err != nil {
		return Visitor{}, notFound(err, "get visitor %s/%s", appid, userid)
	}
	return v, nil
}

// CreateSession inserts sess. ID, CreatedAt and UpdatedAt are filled when
// empty, Status defaults to protocol.SessionInQueue, and LastSeq always
// starts at 0 so the first message gets seq 1. A visitor who already has an
// open session gets ErrConflict.
func (s *Store) CreateSession(ctx context.Context, sess *Session) error {
	if sess.Orgi == "" || sess.AppID == "" || sess.UserID == "" {
		return errors.New("store: create session: orgi, appid and userid are required")
	}
	if sess.ID == "" {
		sess.ID = NewID()
	}
	if sess.Status == "" {
		sess.Status = protocol.SessionInQueue
	}
	now := s.now()
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	if sess.UpdatedAt.IsZero() {
		sess.UpdatedAt = now
	}
	sess.CreatedAt, sess.UpdatedAt = utc(sess.CreatedAt), utc(sess.UpdatedAt)
	sess.ServiceTime, sess.EndTime = utcPtr(sess.ServiceTime), utcPtr(sess.EndTime)
	sess.LastSeq = 0
	sess.OpenKey = nil
	if sess.Status != protocol.SessionEnd {
		key := sess.AppID + "|" + sess.UserID
		sess.OpenKey = &key
	}
	// A deadlock with routing's batched updates of the queue is retried.
	if err := s.retryTx(ctx, func(tx *gorm.DB) error { return tx.Create(sess).Error }); err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("store: create session %s: %w", sess.ID, ErrConflict)
		}
		return fmt.Errorf("store: create session %s: %w", sess.ID, err)
	}
	return nil
}

// GetSession returns the session with the given id.
func (s *Store) GetSession(ctx context.Context, id string) (Session, error) {
	var sess Session
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&sess).Error; err != nil {
		return Session{}, notFound(err, "get session %s", id)
	}
	return sess, nil
}

// OpenSession returns the visitor's most recent session that has not ended,
// or ErrNotFound.
func (s *Store) OpenSession(ctx context.Context, appid, userid string) (Session, error) {
	var sess Session
	err := s.db.WithContext(ctx).
		Where("appid = ? AND userid = ? AND status <> ?", appid, userid, protocol.SessionEnd).
		Order("created_at DESC, id DESC").Take(&sess).Error
	if err != nil {
		return Session{}, notFound(err, "open session of %s/%s", appid, userid)
	}
	return sess, nil
}

// EndSession ends a session that has not ended yet, recording who ended it
// and when. It returns the row as it is after the call and whether this call
// changed it; ending an ended session is a no-op that reports false.
func (s *Store) EndSession(ctx context.Context, id, endBy string, at time.Time) (Session, bool, error) {
	var (
		sess    Session
		changed bool
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		sess, changed, err = s.endSession(tx, id, endBy, at)
		return err
	})
	return sess, changed, err
}

func (s *Store) endSession(tx *gorm.DB, id, endBy string, at time.Time) (Session, bool, error) {
	res := tx.Model(&Session{}).Where("id = ? AND status <> ?", id, protocol.SessionEnd).Updates(map[string]any{
		"status":     protocol.SessionEnd,
		"open_key":   nil,
		"end_by":     endBy,
		"end_time":   utc(at),
		"updated_at": s.now(),
	})
	if res.Error != nil {
		return Session{}, false, notFound(res.Error, "end session %s", id)
	}
	var sess Session
	if err := tx.Where("id = ?", id).Take(&sess).Error; err != nil {
		return Session{}, false, notFound(err, "end session %s", id)
	}
	return sess, res.RowsAffected == 1, nil
}

// ListQueued returns the tenant's waiting sessions in arrival order (FIFO;
// ties broken by id so every reader agrees). limit <= 0 returns them all.
func (s *Store) ListQueued(ctx context.Context, orgi string, limit int) ([]Session, error) {
	q := s.db.WithContext(ctx).Where("orgi = ? AND status = ?", orgi, protocol.SessionInQueue).Order("created_at, id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var out []Session
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list queue of %s: %w", orgi, err)
	}
	return out, nil
}

// CountInService returns, per agent id, how many of the tenant's sessions
// the agent is serving. Agents serving none are absent.
func (s *Store) CountInService(ctx context.Context, orgi string) (map[string]int, error) {
	var rows []struct {
		AgentNo string `gorm:"column:agentno"`
		N       int    `gorm:"column:n"`
	}
	err := s.db.WithContext(ctx).Model(&Session{}).Select("agentno, COUNT(*) AS n").
		Where("orgi = ? AND status = ?", orgi, protocol.SessionInService).Group("agentno").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: count in-service sessions of %s: %w", orgi, err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.AgentNo] = r.N
	}
	return out, nil
}

// InService returns the tenant's sessions in service: session id → agent.
func (s *Store) InService(ctx context.Context, orgi string) (map[string]string, error) {
	var rows []Session
	err := s.db.WithContext(ctx).Select("id", "agentno").Where("orgi = ? AND status = ?", orgi, protocol.SessionInService).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: in-service sessions of %s: %w", orgi, err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.AgentNo
	}
	return out, nil
}

// InServiceDetails returns the tenant's sessions in service, whole (the
// routing timers read their last-message times).
func (s *Store) InServiceDetails(ctx context.Context, orgi string) ([]Session, error) {
	var out []Session
	if err := s.db.WithContext(ctx).Where("orgi = ? AND status = ?", orgi, protocol.SessionInService).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: in-service sessions of %s: %w", orgi, err)
	}
	return out, nil
}

// ListAgentSessions returns the agent's sessions in the given statuses (all
// statuses when none are given), oldest first.
func (s *Store) ListAgentSessions(ctx context.Context, agentNo string, statuses ...string) ([]Session, error) {
	if agentNo == "" {
		// "" is the agentno of every unassigned session.
		return nil, errors.New("store: list agent sessions: agentNo is required")
	}
	q := s.db.WithContext(ctx).Where("agentno = ?", agentNo)
	if len(statuses) > 0 {
		q = q.Where("status IN ?", statuses)
	}
	var out []Session
	if err := q.Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list sessions of agent %s: %w", agentNo, err)
	}
	return out, nil
}

// ListAgentStates returns the tenant's agent states ordered by agent id.
func (s *Store) ListAgentStates(ctx context.Context, orgi string) ([]AgentState, error) {
	var out []AgentState
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("agent_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list agent states of %s: %w", orgi, err)
	}
	return out, nil
}

// ListAllAgentStates returns every tenant's agent states (routing start-up).
func (s *Store) ListAllAgentStates(ctx context.Context) ([]AgentState, error) {
	var out []AgentState
	if err := s.db.WithContext(ctx).Order("orgi, agent_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list agent states: %w", err)
	}
	return out, nil
}

// ListAgentStatusLog returns an agent's status spells, oldest first.
func (s *Store) ListAgentStatusLog(ctx context.Context, agentID string) ([]AgentStatusLog, error) {
	var out []AgentStatusLog
	if err := s.db.WithContext(ctx).Where("agent_id = ?", agentID).Order("since, pk").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: status log of %s: %w", agentID, err)
	}
	return out, nil
}
