package store

import (
	"context"
	"fmt"
	"time"
)

// AgentLogins returns the agent's logins that have not expired at now,
// newest first.
func (s *Store) AgentLogins(ctx context.Context, agentID string, now time.Time) ([]Token, error) {
	var ts []Token
	if err := s.db.WithContext(ctx).Where("agent_id = ? AND expires_at > ?", agentID, utc(now)).
		Order("created_at DESC, hash").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("store: logins of agent %s: %w", agentID, err)
	}
	for i := range ts {
		ts[i].CreatedAt, ts[i].ExpiresAt = utc(ts[i].CreatedAt), utc(ts[i].ExpiresAt)
	}
	return ts, nil
}
