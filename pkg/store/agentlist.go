package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// EndedAgentSessions lists the sessions agentNo served that ended at or
// after since, the latest ending first, at most limit (clamped): the
// workbench keeps recently ended chats in its list across reloads.
func (s *Store) EndedAgentSessions(ctx context.Context, agentNo string, since time.Time, limit int) ([]Session, error) {
	if agentNo == "" {
		return nil, errors.New("store: ended agent sessions: agentNo is required")
	}
	var out []Session
	err := s.db.WithContext(ctx).
		Where("agentno = ? AND status = ? AND end_time >= ?", agentNo, protocol.SessionEnd, utc(since)).
		Order("end_time DESC, id").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: ended sessions of agent %s: %w", agentNo, err)
	}
	return out, nil
}

// LastMessages returns each listed session's latest stored message, by
// session id; a session without messages is absent.
func (s *Store) LastMessages(ctx context.Context, sessionIDs []string) (map[string]Message, error) {
	out := make(map[string]Message, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return out, nil
	}
	var rows []Message
	err := s.db.WithContext(ctx).Raw(`SELECT m.* FROM messages m
		JOIN (SELECT agentserviceid, MAX(seq) AS seq FROM messages WHERE agentserviceid IN ? GROUP BY agentserviceid) l
		ON l.agentserviceid = m.agentserviceid AND l.seq = m.seq`, sessionIDs).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: last messages: %w", err)
	}
	for _, m := range rows {
		out[m.SessionID] = m
	}
	return out, nil
}
