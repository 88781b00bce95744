package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// Roles returns the tenant's role definitions (see Role), by name.
func (s *Store) Roles(ctx context.Context, orgi string) ([]Role, error) {
	var out []Role
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: roles of %s: %w", orgi, err)
	}
	return out, nil
}

// SaveRole inserts or replaces one role definition.
func (s *Store) SaveRole(ctx context.Context, r Role) error {
	now := s.now()
	r.CreatedAt, r.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "orgi"}, {Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"rights", "updated_at"}),
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("store: save role %s/%s: %w", r.Orgi, r.Name, err)
	}
	return nil
}

// DeleteRole removes a role definition (ErrNotFound if there was none).
func (s *Store) DeleteRole(ctx context.Context, orgi, name string) error {
	res := s.db.WithContext(ctx).Where("orgi = ? AND name = ?", orgi, name).Delete(&Role{})
	return touched(res, "delete role %s/%s", orgi, name)
}

// AppendSessionEvents records conversation events (CreatedAt filled when
// zero).
func (s *Store) AppendSessionEvents(ctx context.Context, evs ...SessionEvent) error {
	if len(evs) == 0 {
		return nil
	}
	now := s.now()
	for i := range evs {
		if evs[i].CreatedAt.IsZero() {
			evs[i].CreatedAt = now
		}
		evs[i].CreatedAt = utc(evs[i].CreatedAt)
	}
	if err := s.db.WithContext(ctx).Create(&evs).Error; err != nil {
		return fmt.Errorf("store: append session events: %w", err)
	}
	return nil
}

// SessionEvents returns a conversation's events, oldest first.
func (s *Store) SessionEvents(ctx context.Context, sessionID string) ([]SessionEvent, error) {
	var out []SessionEvent
	if err := s.db.WithContext(ctx).Where("agentserviceid = ?", sessionID).Order("created_at, pk").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: events of session %s: %w", sessionID, err)
	}
	return out, nil
}

// HasSessionEvent reports whether the conversation has an event of kind by
// actor (e.g. whether a supervisor already joined it).
func (s *Store) HasSessionEvent(ctx context.Context, sessionID, kind, actor string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&SessionEvent{}).
		Where("agentserviceid = ? AND kind = ? AND actor = ?", sessionID, kind, actor).Limit(1).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: session event of %s: %w", sessionID, err)
	}
	return n > 0, nil
}

// AddNote stores a whisper. A repeated client id answers the note stored
// first, with duplicate set, and stores nothing.
func (s *Store) AddNote(ctx context.Context, n *SessionNote) (stored SessionNote, duplicate bool, err error) {
	if n.SessionID == "" || n.ClientID == "" {
		return SessionNote{}, false, errors.New("store: add note: session and client id are required")
	}
	if n.ID == "" {
		n.ID = NewID()
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	n.CreatedAt = utc(n.CreatedAt)
	db := s.db.WithContext(ctx)
	if err := db.Create(n).Error; err != nil {
		if !isDuplicate(err) {
			return SessionNote{}, false, fmt.Errorf("store: add note: %w", err)
		}
		var first SessionNote
		if err := db.Where("agentserviceid = ? AND clientid = ?", n.SessionID, n.ClientID).Take(&first).Error; err != nil {
			return SessionNote{}, false, fmt.Errorf("store: add note: %w", err)
		}
		return first, true, nil
	}
	return *n, false, nil
}

// ListNotes returns a conversation's whispers, oldest first.
func (s *Store) ListNotes(ctx context.Context, sessionID string) ([]SessionNote, error) {
	var out []SessionNote
	if err := s.db.WithContext(ctx).Where("agentserviceid = ?", sessionID).Order("created_at, pk").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: notes of session %s: %w", sessionID, err)
	}
	return out, nil
}

// SaveMonitorSamples writes each tenant's counters for a minute; a second
// write for the same minute replaces the first (the latest figures win).
func (s *Store) SaveMonitorSamples(ctx context.Context, samples []MonitorSample) error {
	if len(samples) == 0 {
		return nil
	}
	for i := range samples {
		samples[i].At = utc(samples[i].At).Truncate(time.Minute)
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "orgi"}, {Name: "at"}},
		DoUpdates: clause.AssignmentColumns([]string{"agents", "busy", "users", "inqueue"}),
	}).Create(&samples).Error
	if err != nil {
		return fmt.Errorf("store: save monitor samples: %w", err)
	}
	return nil
}

// MonitorSamples returns a tenant's samples from since on, oldest first.
func (s *Store) MonitorSamples(ctx context.Context, orgi string, since time.Time) ([]MonitorSample, error) {
	var out []MonitorSample
	if err := s.db.WithContext(ctx).Where("orgi = ? AND at >= ?", orgi, utc(since)).Order("at").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: monitor samples of %s: %w", orgi, err)
	}
	return out, nil
}

// ServesVisitor reports whether agentID serves the visitor in a chat now.
func (s *Store) ServesVisitor(ctx context.Context, agentID, appid, userid string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Session{}).
		Where("appid = ? AND userid = ? AND agentno = ? AND status = ?", appid, userid, agentID, protocol.SessionInService).Limit(1).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: serves visitor %s/%s: %w", appid, userid, err)
	}
	return n > 0, nil
}

// ServingReadSeqs returns, for each session given (id → the agent serving
// it), how far that agent has read it.
func (s *Store) ServingReadSeqs(ctx context.Context, serving map[string]string) (map[string]int64, error) {
	out := make(map[string]int64, len(serving))
	if len(serving) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(serving))
	for id := range serving {
		ids = append(ids, id)
	}
	var rows []ReadState
	if err := s.db.WithContext(ctx).Where("agentserviceid IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: serving read states: %w", err)
	}
	for _, r := range rows {
		if serving[r.SessionID] == r.AgentID {
			out[r.SessionID] = r.ReadSeq
		}
	}
	return out, nil
}

// AgentIDs lists the ids of the tenant's agents.
func (s *Store) AgentIDs(ctx context.Context, orgi string) ([]string, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&Agent{}).Where("orgi = ?", orgi).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("store: agent ids of %s: %w", orgi, err)
	}
	return ids, nil
}
