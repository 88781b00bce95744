package store

import (
	"context"

	"fmt"

	"gorm.io/gorm"
)

// Pair names a 1:1 conversation the same way from both sides.
func Pair(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "|" + b
}

// AppendIM stores an IM message; a resend (same sender and ClientID)
// returns the first copy with duplicate=true.
func (s *Store) AppendIM(ctx context.Context, m *IMMessage) (stored IMMessage, duplicate bool, err error) {
	msg := *m
	msg.PK, msg.ID, msg.CreatedAt = 0, NewID(), s.now()
	err = s.db.WithContext(ctx).Create(&msg).Error
	if err == nil {
		return msg, false, nil
	}
	if isDuplicate(err) {
		var prev IMMessage
		if e := s.db.WithContext(ctx).Where("from_agent = ? AND clientid = ?", m.From, m.ClientID).Take(&prev).Error; e == nil {
			return prev, true, nil
		}
	}
	return IMMessage{}, false, fmt.Errorf("store: append IM message: %w", err)
}

// ListIM returns up to limit messages of a 1:1 pair or a group, older than
// beforePK (0: the latest), oldest first.
func (s *Store) ListIM(ctx context.Context, pair, groupID string, beforePK int64, limit int) ([]IMMessage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := s.db.WithContext(ctx)
	if pair != "" {
		q = q.Where("pair = ?", pair)
	} else {
		q = q.Where("group_id = ?", groupID)
	}
	if beforePK > 0 {
		q = q.Where("pk < ?", beforePK)
	}
	var out []IMMessage
	if err := q.Order("pk DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list IM: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// CreateIMGroup creates a group with its members (the creator included).
func (s *Store) CreateIMGroup(ctx context.Context, g *IMGroup, members []string) error {
	g.ID, g.CreatedAt = NewID(), s.now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(g).Error; err != nil {
			return fmt.Errorf("store: create IM group: %w", err)
		}
		for _, m := range members {
			if err := tx.Create(&IMMember{GroupID: g.ID, AgentID: m}).Error; err != nil {
				return fmt.Errorf("store: add IM member: %w", err)
			}
		}
		return nil
	})
}

// IMGroupsOf returns the groups agentID belongs to.
func (s *Store) IMGroupsOf(ctx context.Context, agentID string) ([]IMGroup, error) {
	var out []IMGroup
	err := s.db.WithContext(ctx).Joins("JOIN im_members ON im_members.group_id = im_groups.id").
		Where("im_members.agent_id = ?", agentID).Order("im_groups.name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: IM groups: %w", err)
	}
	return out, nil
}

// IMGroupMembers returns a group's member ids; ErrNotFound for no group.
func (s *Store) IMGroupMembers(ctx context.Context, groupID string) (IMGroup, []string, error) {
	var g IMGroup
	if err := s.db.WithContext(ctx).Where("id = ?", groupID).Take(&g).Error; err != nil {
		return IMGroup{}, nil, notFound(err, "IM group %s", groupID)
	}
	var ids []string
	if err := s.db.WithContext(ctx).Model(&IMMember{}).Where("group_id = ?", groupID).Order("agent_id").Pluck("agent_id", &ids).Error; err != nil {
		return IMGroup{}, nil, fmt.Errorf("store: IM members: %w", err)
	}
	return g, ids, nil
}

// MarkIMRead marks agentID's conversation with a colleague (with) or a group
// read up to the latest message.
func (s *Store) MarkIMRead(ctx context.Context, agentID, with, groupID string) error {
	db := s.db.WithContext(ctx)
	var last int64
	q := db.Model(&IMMessage{}).Select("COALESCE(MAX(pk), 0)")
	if with != "" {
		q = q.Where("pair = ?", Pair(agentID, with))
	} else {
		q = q.Where("group_id = ?", groupID)
	}
	if err := q.Scan(&last).Error; err != nil {
		return fmt.Errorf("store: IM read: %w", err)
	}
	var res *gorm.DB
	if with != "" {
		res = db.Save(&IMRead{AgentID: agentID, With: with, ReadPK: last})
	} else {
		res = db.Model(&IMMember{}).Where("group_id = ? AND agent_id = ?", groupID, agentID).Update("read_pk", last)
	}
	if res.Error != nil {
		return fmt.Errorf("store: IM read: %w", res.Error)
	}
	return nil
}

// IMUnread counts agentID's unread messages: per colleague (messages from
// them) and per group (messages from others).
func (s *Store) IMUnread(ctx context.Context, agentID string) (byAgent, byGroup map[string]int, err error) {
	db := s.db.WithContext(ctx)
	byAgent, byGroup = make(map[string]int), make(map[string]int)
	var rows []struct {
		Key string
		N   int
	}
	err = db.Raw(`SELECT m.from_agent AS `+"`key`"+`, COUNT(*) AS n FROM im_messages m
		LEFT JOIN im_reads r ON r.agent_id = ? AND r.with_agent = m.from_agent
		WHERE m.pair <> '' AND m.from_agent <> ? AND (m.pair LIKE ? OR m.pair LIKE ?) AND m.pk > COALESCE(r.read_pk, 0)
		GROUP BY m.from_agent`, agentID, agentID, agentID+"|%", "%|"+agentID).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("store: IM unread: %w", err)
	}
	for _, r := range rows {
		byAgent[r.Key] = r.N
	}
	rows = nil
	err = db.Raw(`SELECT m.group_id AS `+"`key`"+`, COUNT(*) AS n FROM im_messages m
		JOIN im_members g ON g.group_id = m.group_id AND g.agent_id = ?
		WHERE m.group_id <> '' AND m.from_agent <> ? AND m.pk > g.read_pk
		GROUP BY m.group_id`, agentID, agentID).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("store: IM unread: %w", err)
	}
	for _, r := range rows {
		byGroup[r.Key] = r.N
	}
	return byAgent, byGroup, nil
}
