package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-im/kefu/pkg/protocol"
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

// ListAgents returns the tenant's agents ordered by username, deleted ones
// left out: they are in no list, no routing and no supervision.
func (s *Store) ListAgents(ctx context.Context, orgi string) ([]Agent, error) {
	var agents []Agent
	if err := s.db.WithContext(ctx).Where("orgi = ? AND deleted_at IS NULL", orgi).Order("username, id").Find(&agents).Error; err != nil {
		return nil, fmt.Errorf("store: list agents of %s: %w", orgi, err)
	}
	return agents, nil
}

// AgentNicknames maps every agent of the tenant, deleted ones too, to its
// nickname: the name past conversations show for who served them.
func (s *Store) AgentNicknames(ctx context.Context, orgi string) (map[string]string, error) {
	var rows []Agent
	if err := s.db.WithContext(ctx).Select("id, nickname").Where("orgi = ?", orgi).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: agent nicknames of %s: %w", orgi, err)
	}
	out := make(map[string]string, len(rows))
	for _, a := range rows {
		out[a.ID] = a.Nickname
	}
	return out, nil
}

// DeletedUsername is the username a deleted agent is renamed to, which
// frees its own for a new account.
func DeletedUsername(id string) string { return "deleted-" + id }

// DeleteAgent removes an agent for good but keeps its row, so that the
// conversations, archive and reports it took part in keep their agent and
// its nickname: the agent is marked deleted and disabled, renamed to
// DeletedUsername, and loses its skill groups and logins, all at once. An
// agent that is missing or already deleted yields ErrNotFound.
//
// Its open chats are not the store's business: routing hands them back to
// the queue (force offline) before this is called.
func (s *Store) DeleteAgent(ctx context.Context, id string) error {
	now := s.now()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Agent{}).Where("id = ? AND deleted_at IS NULL", id).Updates(map[string]any{
			"deleted_at": now, "disabled": true, "username": DeletedUsername(id), "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Where("agent_id = ?", id).Delete(&AgentSkill{}).Error; err != nil {
			return err
		}
		return tx.Where("agent_id = ?", id).Delete(&Token{}).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete agent %s: %w", id, err)
	}
	return nil
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

// SetSkillMembers makes agentIDs the members of the tenant's skill group
// id, replacing the ones it had. A group, or an agent, that is not the
// tenant's (or is deleted) yields ErrNotFound and changes nothing.
func (s *Store) SetSkillMembers(ctx context.Context, orgi, id string, agentIDs []string) error {
	ids := slices.Clone(agentIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&SkillGroup{}).Where("orgi = ? AND id = ?", orgi, id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("skill group: %w", ErrNotFound)
		}
		if len(ids) > 0 {
			if err := tx.Model(&Agent{}).Where("orgi = ? AND deleted_at IS NULL AND id IN ?", orgi, ids).Count(&n).Error; err != nil {
				return err
			}
			if int(n) != len(ids) {
				return fmt.Errorf("agent: %w", ErrNotFound)
			}
		}
		if err := tx.Where("skill_id = ?", id).Delete(&AgentSkill{}).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		links := make([]AgentSkill, len(ids))
		for i, a := range ids {
			links[i] = AgentSkill{AgentID: a, SkillID: id}
		}
		return tx.Create(&links).Error
	})
	if err != nil {
		return fmt.Errorf("store: set members of skill %s: %w", id, err)
	}
	return nil
}

// SkillInUseError is why a skill group cannot be deleted: what still
// depends on it. It wraps ErrConflict.
type SkillInUseError struct {
	Children, Members, Queued, Sites int64
}

func (e *SkillInUseError) Error() string {
	return fmt.Sprintf("skill group in use: %d child groups, %d members, %d visitors queued, %d sites routing to it", e.Children, e.Members, e.Queued, e.Sites)
}

func (e *SkillInUseError) Unwrap() error { return ErrConflict }

// DeleteSkill deletes the tenant's skill group id and its routing settings,
// unless groups below it, members, visitors waiting for it or sites routing
// to it still depend on it (a *SkillInUseError). Sessions it served keep its id. A missing
// group yields ErrNotFound.
func (s *Store) DeleteSkill(ctx context.Context, orgi, id string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var g SkillGroup
		if err := tx.Where("orgi = ? AND id = ?", orgi, id).Take(&g).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		var use SkillInUseError
		if err := tx.Model(&SkillGroup{}).Where("orgi = ? AND parent_id = ?", orgi, id).Count(&use.Children).Error; err != nil {
			return err
		}
		if err := tx.Model(&AgentSkill{}).Where("skill_id = ?", id).Count(&use.Members).Error; err != nil {
			return err
		}
		if err := tx.Model(&Session{}).Where("orgi = ? AND skill = ? AND status = ?", orgi, id, protocol.SessionInQueue).Count(&use.Queued).Error; err != nil {
			return err
		}
		var sites []string
		if err := tx.Model(&Site{}).Where("orgi = ? AND skills <> ''", orgi).Pluck("skills", &sites).Error; err != nil {
			return err
		}
		for _, list := range sites {
			if slices.Contains(strings.Split(list, ","), id) {
				use.Sites++
			}
		}
		if use != (SkillInUseError{}) {
			return &use
		}
		if err := tx.Where("orgi = ? AND skill = ?", orgi, id).Delete(&SessionConfig{}).Error; err != nil {
			return err
		}
		return tx.Delete(&g).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete skill %s: %w", id, err)
	}
	return nil
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
	return touched(res, "extend token")
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
