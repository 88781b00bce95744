package store

import (
	"context"
	"fmt"

	"gorm.io/gorm/clause"

	"github.com/kefu-im/kefu/pkg/prompt"
)

// TenantAgentSkills returns, for each of the tenant's agents that belongs to
// any skill group, the groups' ids.
func (s *Store) TenantAgentSkills(ctx context.Context, orgi string) (map[string][]string, error) {
	var rows []AgentSkill
	err := s.db.WithContext(ctx).Model(&AgentSkill{}).
		Joins("JOIN agents ON agents.id = agent_skills.agent_id").
		Where("agents.orgi = ?", orgi).Order("agent_skills.agent_id, agent_skills.skill_id").
		Select("agent_skills.agent_id, agent_skills.skill_id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: agent skills of %s: %w", orgi, err)
	}
	out := make(map[string][]string)
	for _, r := range rows {
		out[r.AgentID] = append(out[r.AgentID], r.SkillID)
	}
	return out, nil
}

// LastAgents returns the agents who served the visitor before, most recent
// first, each once.
func (s *Store) LastAgents(ctx context.Context, appid, userid string, limit int) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&Session{}).
		Where("appid = ? AND userid = ? AND agentno <> ''", appid, userid).
		Group("agentno").Order("MAX(created_at) DESC").Limit(limit).Pluck("agentno", &out).Error
	if err != nil {
		return nil, fmt.Errorf("store: last agents of %s/%s: %w", appid, userid, err)
	}
	return out, nil
}

// SessionConfigs returns the tenant's routing settings: its own (Skill
// empty) and its skill groups' overrides.
func (s *Store) SessionConfigs(ctx context.Context, orgi string) ([]SessionConfig, error) {
	var out []SessionConfig
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("skill").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: session configs of %s: %w", orgi, err)
	}
	return out, nil
}

// Prompts returns the tenant's prompt texts (its own settings row; the
// defaults when it has none).
func (s *Store) Prompts(ctx context.Context, orgi string) (prompt.Set, error) {
	var rows []SessionConfig
	if err := s.db.WithContext(ctx).Where("orgi = ? AND skill = ''", orgi).Limit(1).Find(&rows).Error; err != nil {
		return prompt.Set{}, fmt.Errorf("store: prompts of %s: %w", orgi, err)
	}
	if len(rows) == 0 {
		return prompt.New("", ""), nil
	}
	return prompt.New(rows[0].Lang, rows[0].Prompts), nil
}

// SaveSessionConfig inserts or replaces one routing settings row.
func (s *Store) SaveSessionConfig(ctx context.Context, c SessionConfig) error {
	c.UpdatedAt = s.now()
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "orgi"}, {Name: "skill"}},
		DoUpdates: clause.AssignmentColumns([]string{
			"distribution", "last_agent", "max_user", "init_max_user", "updated_at",
			"visitor_idle_warn", "visitor_idle_close", "agent_no_reply", "queue_timeout", "visitor_left_grace", "working_hours", "schedule", "prompts", "lang",
		}),
	}).Create(&c).Error
	if err != nil {
		return fmt.Errorf("store: save session config %s/%s: %w", c.Orgi, c.Skill, err)
	}
	return nil
}

// DeleteSessionConfig removes a skill group's overrides: the group then
// inherits everything. The tenant's own row (skill "") is never removed.
func (s *Store) DeleteSessionConfig(ctx context.Context, orgi, skill string) error {
	if skill == "" {
		return fmt.Errorf("store: delete session config of %s: the tenant's row stays: %w", orgi, ErrConflict)
	}
	if err := s.db.WithContext(ctx).Where("orgi = ? AND skill = ?", orgi, skill).Delete(&SessionConfig{}).Error; err != nil {
		return fmt.Errorf("store: delete session config %s/%s: %w", orgi, skill, err)
	}
	return nil
}

// UpdateSkill saves a skill group's name, capacity, parent and disabled flag.
func (s *Store) UpdateSkill(ctx context.Context, g *SkillGroup) error {
	res := s.db.WithContext(ctx).Model(&SkillGroup{}).Where("id = ?", g.ID).Updates(map[string]any{
		"name": g.Name, "max_user": g.MaxUser, "disabled": g.Disabled, "parent_id": g.ParentID,
	})
	return touched(res, "update skill %s", g.ID)
}

// GetAgentState returns one agent's routing state, or ErrNotFound if routing
// has never recorded one.
func (s *Store) GetAgentState(ctx context.Context, agentID string) (AgentState, error) {
	var st AgentState
	if err := s.db.WithContext(ctx).Where("agent_id = ?", agentID).Take(&st).Error; err != nil {
		return AgentState{}, notFound(err, "get agent state %s", agentID)
	}
	return st, nil
}
