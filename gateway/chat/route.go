package chat

import (
	"context"
	"errors"
	"slices"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// checkSkill refuses a skill group the site is not bound to. A site bound
// to none leaves the choice to the tenant's routing, which ignores groups
// it does not know.
func checkSkill(site store.Site, skill string) error {
	if groups := site.SkillIDs(); skill != "" && len(groups) > 0 && !slices.Contains(groups, skill) {
		return protocol.Errorf(protocol.CodeBadSkill, "skill %q is not one of this site's skill groups", skill)
	}
	return nil
}

// visitorRoute is where a new chat asks routing to go: the skill group and
// the agent asked for first, checked against the site. On a site bound to
// groups a chat always has one of them: the one asked for, else the preset
// agent's first, else the site's only one; with several and no choice the
// visitor must pick (the widget shows its picker first).
func (s *Service) visitorRoute(ctx context.Context, site store.Site, skill, agent string) (string, string, error) {
	if err := checkSkill(site, skill); err != nil {
		return "", "", err
	}
	agent, shared, err := s.preferredAgent(ctx, site, agent)
	if err != nil {
		return "", "", err
	}
	groups := site.SkillIDs()
	if skill != "" || len(groups) == 0 {
		return skill, agent, nil
	}
	switch {
	case len(shared) > 0:
		return shared[0], agent, nil
	case len(groups) == 1:
		return groups[0], agent, nil
	}
	return "", "", protocol.Errorf(protocol.CodeBadSkill, "choose one of this site's skill groups")
}

// preferredAgent returns id when it may be asked for first: an agent of the
// site's tenant, neither disabled nor deleted, and on a site bound to
// groups a member of one of them (shared: those groups, in the site's
// order). Anyone else is ignored rather than refused: a stale link or
// invite still reaches the site's groups.
func (s *Service) preferredAgent(ctx context.Context, site store.Site, id string) (string, []string, error) {
	if id == "" {
		return "", nil, nil
	}
	a, err := s.Store.GetAgent(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (a.Orgi != site.Orgi || a.Disabled || a.DeletedAt != nil)) {
		s.Logger.DebugContext(ctx, "preset agent ignored", "agent", id)
		return "", nil, nil
	}
	if err != nil {
		return "", nil, unavailable("load agent", err)
	}
	groups := site.SkillIDs()
	if len(groups) == 0 {
		return id, nil, nil
	}
	mine, err := s.Store.AgentSkills(ctx, id)
	if err != nil {
		return "", nil, unavailable("load agent skills", err)
	}
	var shared []string
	for _, g := range groups {
		if slices.Contains(mine, g) {
			shared = append(shared, g)
		}
	}
	if len(shared) == 0 {
		s.Logger.DebugContext(ctx, "preset agent outside the site's groups ignored", "agent", id)
		return "", nil, nil
	}
	return id, shared, nil
}
