package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// CreateAgent inserts a and links it to skillIDs, all or nothing. ID and
// timestamps are filled when empty. A taken username (compared
// case-insensitively on every backend) yields ErrConflict; a skill that does
// not exist in a's tenant yields ErrNotFound.
func (s *Store) CreateAgent(ctx context.Context, a *Agent, skillIDs []string) error {
	if a.Orgi == "" || a.Username == "" {
		return errors.New("store: create agent: orgi and username are required")
	}
	if a.ID == "" {
		a.ID = NewID()
	}
	now := s.now()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.CreatedAt = utc(a.CreatedAt)
	a.UpdatedAt = now
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(a).Error; err != nil {
			if isDuplicate(err) {
				return fmt.Errorf("username %q: %w", a.Username, ErrConflict)
			}
			return err
		}
		return setAgentSkills(tx, a.ID, a.Orgi, skillIDs)
	})
	if err != nil {
		return fmt.Errorf("store: create agent: %w", err)
	}
	return nil
}

// UpdateAgent writes every editable field of a (username, password hash,
// nickname, roles, max user, disabled): read the agent, change it, write it
// back. Orgi never changes. A nil skillIDs leaves the skills alone; a
// non-nil one replaces them.
func (s *Store) UpdateAgent(ctx context.Context, a *Agent, skillIDs *[]string) error {
	a.UpdatedAt = s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Agent{}).Where("id = ?", a.ID).Updates(map[string]any{
			"username":      a.Username,
			"password_hash": a.PasswordHash,
			"nickname":      a.Nickname,
			"roles":         a.Roles,
			"max_user":      a.MaxUser,
			"disabled":      a.Disabled,
			"updated_at":    a.UpdatedAt,
		})
		if res.Error != nil {
			if isDuplicate(res.Error) {
				return fmt.Errorf("username %q: %w", a.Username, ErrConflict)
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if skillIDs == nil {
			return nil
		}
		// The skills must belong to the agent's stored tenant, not to
		// whatever Orgi the caller's copy carries.
		var orgi string
		if err := tx.Model(&Agent{}).Where("id = ?", a.ID).Pluck("orgi", &orgi).Error; err != nil {
			return err
		}
		if err := tx.Where("agent_id = ?", a.ID).Delete(&AgentSkill{}).Error; err != nil {
			return err
		}
		return setAgentSkills(tx, a.ID, orgi, *skillIDs)
	})
	if err != nil {
		return fmt.Errorf("store: update agent %s: %w", a.ID, err)
	}
	return nil
}

// setAgentSkills links agentID to skillIDs after checking that each one is
// a skill group of the agent's tenant, so a crafted id cannot attach an
// agent to another tenant's routing.
func setAgentSkills(tx *gorm.DB, agentID, orgi string, skillIDs []string) error {
	ids := slices.Clone(skillIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil
	}
	var n int64
	if err := tx.Model(&SkillGroup{}).Where("orgi = ? AND id IN ?", orgi, ids).Count(&n).Error; err != nil {
		return err
	}
	if int(n) != len(ids) {
		return fmt.Errorf("skill group: %w", ErrNotFound)
	}
	links := make([]AgentSkill, len(ids))
	for i, id := range ids {
		links[i] = AgentSkill{AgentID: agentID, SkillID: id}
	}
	return tx.Create(&links).Error
}

// GetAgent returns the agent with the given id.
func (s *Store) GetAgent(ctx context.Context, id string) (Agent, error) {
	var a Agent
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return Agent{}, notFound(err, "get agent %s", id)
	}
	return a, nil
}

// GetAgentByUsername finds an agent by username, ignoring case as the
// uniqueness rule does.
func (s *Store) GetAgentByUsername(ctx context.Context, username string) (Agent, error) {
	q := "username = ?"
	if !s.mysql {
		q = "username = ? COLLATE NOCASE" // matches idx_agents_username_nocase
	}
	var a Agent
	if err := s.db.WithContext(ctx).Where(q, username).Take(&a).Error; err != nil {
		return Agent{}, notFound(err, "get agent by username %q", username)
	}
	return a, nil
}

// ListAgents returns the tenant's agents ordered by username.
func (s *Store) ListAgents(ctx context.Context, orgi string) ([]Agent, error) {
	var agents []Agent
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("username, id").Find(&agents).Error; err != nil {
		return nil, fmt.Errorf("store: list agents of %s: %w", orgi, err)
	}
	return agents, nil
}

// AgentSkills returns the ids of the agent's skill groups, sorted.
func (s *Store) AgentSkills(ctx context.Context, agentID string) ([]string, error) {
	ids := []string{}
	if err := s.db.WithContext(ctx).Model(&AgentSkill{}).Where("agent_id = ?", agentID).
		Order("skill_id").Pluck("skill_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("store: skills of agent %s: %w", agentID, err)
	}
	return ids, nil
}

// CreateSkill inserts g, filling ID and CreatedAt when empty.
func (s *Store) CreateSkill(ctx context.Context, g *SkillGroup) error {
	if g.Orgi == "" {
		return errors.New("store: create skill: orgi is required")
	}
	if g.ID == "" {
		g.ID = NewID()
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.now()
	}
	g.CreatedAt = utc(g.CreatedAt)
	if err := s.db.WithContext(ctx).Create(g).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("store: create skill %s: %w", g.ID, ErrConflict)
		}
		return fmt.Errorf("store: create skill %s: %w", g.ID, err)
	}
	return nil
}

// ListSkills returns the tenant's skill groups ordered by name.
func (s *Store) ListSkills(ctx context.Context, orgi string) ([]SkillGroup, error) {
	var groups []SkillGroup
	if err := s.db.WithContext(ctx).Where("orgi = ?", orgi).Order("name, id").Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("store: list skills of %s: %w", orgi, err)
	}
	return groups, nil
}

// CreateToken stores a login. CreatedAt is filled when empty; ExpiresAt is
// required.
func (s *Store) CreateToken(ctx context.Context, t Token) error {
	if t.Hash == "" || t.AgentID == "" || t.ExpiresAt.IsZero() {
		return errors.New("store: create token: hash, agent id and expiry are required")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt, t.ExpiresAt = utc(t.CreatedAt), utc(t.ExpiresAt)
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("store: create token: %w", ErrConflict)
		}
		return fmt.Errorf("store: create token: %w", err)
	}
	return nil
}

// GetToken returns the login with the given hash, expired or not: the
// caller compares ExpiresAt with its clock.
func (s *Store) GetToken(ctx context.Context, hash string) (Token, error) {
	var t Token
	if err := s.db.WithContext(ctx).Where("hash = ?", hash).Take(&t).Error; err != nil {
		return Token{}, notFound(err, "get token")
	}
	return t, nil
}

// ExtendToken moves the token's expiry (sliding sessions).
func (s *Store) ExtendToken(ctx context.Context, hash string, expires time.Time) error {
	res := s.db.WithContext(ctx).Model(&Token{}).Where("hash = ?", hash).Update("expires_at", utc(expires))
	if res.Error != nil {
		return fmt.Errorf("store: extend token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: extend token: %w", ErrNotFound)
	}
	return nil
}

// DeleteToken removes one login (logout). A missing token is not an error.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	if err := s.db.WithContext(ctx).Where("hash = ?", hash).Delete(&Token{}).Error; err != nil {
		return fmt.Errorf("store: delete token: %w", err)
	}
	return nil
}

// DeleteAgentTokens removes every login of the agent (disable, password
// change).
func (s *Store) DeleteAgentTokens(ctx context.Context, agentID string) error {
	if err := s.db.WithContext(ctx).Where("agent_id = ?", agentID).Delete(&Token{}).Error; err != nil {
		return fmt.Errorf("store: delete tokens of agent %s: %w", agentID, err)
	}
	return nil
}

// DeleteExpiredTokens removes logins that expired before now and returns
// how many.
func (s *Store) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", utc(now)).Delete(&Token{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete expired tokens: %w", res.Error)
	}
	return res.RowsAffected, nil
}
