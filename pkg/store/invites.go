package store

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// inviteAnswerWindow bounds how old a sent invitation may be for a
// visitor's answer to count as its answer.
const inviteAnswerWindow = time.Hour

// CreateInvite records an invitation as sent.
func (s *Store) CreateInvite(ctx context.Context, r *InviteRecord) error {
	if r.ID == "" {
		r.ID = NewID()
	}
	now := s.now()
	r.Status, r.CreatedAt, r.UpdatedAt = protocol.InviteSent, now, now
	if err := s.db.WithContext(ctx).Create(r).Error; err != nil {
		return fmt.Errorf("store: create invite: %w", err)
	}
	return nil
}

// AnswerInvite records the visitor's answer on its newest invitation still
// waiting for one; ok is false when there is none (an old widget, or the
// answer came twice).
func (s *Store) AnswerInvite(ctx context.Context, appid, userid string, accept bool) (r InviteRecord, ok bool, err error) {
	now := s.now()
	q := s.db.WithContext(ctx).Where("appid = ? AND userid = ? AND status = ? AND created_at > ?", appid, userid, protocol.InviteSent, now.Add(-inviteAnswerWindow))
	if err := q.Order("created_at DESC").Limit(1).Find(&r).Error; err != nil {
		return InviteRecord{}, false, fmt.Errorf("store: answer invite: %w", err)
	}
	if r.ID == "" {
		return InviteRecord{}, false, nil
	}
	r.Status = protocol.InviteRefused
	if accept {
		r.Status = protocol.InviteAccepted
	}
	r.UpdatedAt = now
	res := s.db.WithContext(ctx).Model(&InviteRecord{}).Where("id = ? AND status = ?", r.ID, protocol.InviteSent).
		Updates(map[string]any{"status": r.Status, "updated_at": now})
	if res.Error != nil {
		return InviteRecord{}, false, fmt.Errorf("store: answer invite %s: %w", r.ID, res.Error)
	}
	return r, res.RowsAffected == 1, nil
}

// LinkInvite ties the session a visitor opened for an agent to that
// agent's accepted invitation, so that routing can record how it ended.
func (s *Store) LinkInvite(ctx context.Context, appid, userid, agentID, sessionID string) error {
	var r InviteRecord
	err := s.db.WithContext(ctx).Where("appid = ? AND userid = ? AND agent_id = ? AND status = ? AND agentserviceid = ''", appid, userid, agentID, protocol.InviteAccepted).
		Order("created_at DESC").Limit(1).Find(&r).Error
	if err != nil || r.ID == "" {
		if err != nil {
			return fmt.Errorf("store: link invite: %w", err)
		}
		return nil
	}
	if err := s.db.WithContext(ctx).Model(&InviteRecord{}).Where("id = ?", r.ID).
		Updates(map[string]any{"agentserviceid": sessionID, "updated_at": s.now()}).Error; err != nil {
		return fmt.Errorf("store: link invite %s: %w", r.ID, err)
	}
	return nil
}

// ListInvites returns a tenant's invitations, newest first; agentID
// narrows them to one inviter.
func (s *Store) ListInvites(ctx context.Context, orgi, agentID string, limit int) ([]InviteRecord, error) {
	q := s.db.WithContext(ctx).Where("orgi = ?", orgi)
	if agentID != "" {
		q = q.Where("agent_id = ?", agentID)
	}
	var out []InviteRecord
	if err := q.Order("created_at DESC").Limit(clampLimit(limit)).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list invites: %w", err)
	}
	return out, nil
}

// ResolveInvite records who served the session an accepted invitation led
// to: its inviter (served) or someone else (redirected). It reports the
// record when there was one.
func (t *RoutingTx) ResolveInvite(sessionID, servedBy string) (InviteRecord, bool, error) {
	var r InviteRecord
	if err := t.tx.Where("agentserviceid = ? AND status = ?", sessionID, protocol.InviteAccepted).Limit(1).Find(&r).Error; err != nil {
		return InviteRecord{}, false, fmt.Errorf("store: resolve invite of %s: %w", sessionID, err)
	}
	if r.ID == "" {
		return InviteRecord{}, false, nil
	}
	r.Status, r.ServedBy = protocol.InviteRedirected, servedBy
	if servedBy == r.AgentID {
		r.Status = protocol.InviteServed
	}
	if err := t.tx.Model(&InviteRecord{}).Where("id = ?", r.ID).
		Updates(map[string]any{"status": r.Status, "served_by": servedBy, "updated_at": t.s.now()}).Error; err != nil {
		return InviteRecord{}, false, fmt.Errorf("store: resolve invite %s: %w", r.ID, err)
	}
	return r, true, nil
}
