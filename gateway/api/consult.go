package api

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// consult is the skill picker of the widget's config: the site's enabled
// groups in the site's order (nil when the site is bound to none), and
// whether any of them has a ready agent with room (the site's `agents`:
// its visitors wait for their group only).
func (a *API) consult(ctx context.Context, site store.Site, states []store.AgentState) (*protocol.Consult, bool, error) {
	ids := site.SkillIDs()
	if len(ids) == 0 {
		return nil, false, nil
	}
	groups, err := a.Store.ListSkills(ctx, site.Orgi)
	if err != nil {
		return nil, false, err
	}
	members, err := a.Store.TenantAgentSkills(ctx, site.Orgi)
	if err != nil {
		return nil, false, err
	}
	readyIn := map[string]bool{}
	for _, st := range states {
		if st.Status == protocol.AgentReady && !st.Busy {
			for _, g := range members[st.AgentID] {
				readyIn[g] = true
			}
		}
	}
	var cfg struct {
		Consult struct {
			Title      string `json:"title"`
			ShowAgents bool   `json:"showagents"`
		} `json:"consult"`
	}
	_ = json.Unmarshal([]byte(site.Config), &cfg) // validated when saved; malformed: defaults
	out := &protocol.Consult{Title: cfg.Consult.Title, ShowAgents: cfg.Consult.ShowAgents, Skills: []protocol.ConsultSkill{}}
	anyReady := false
	for _, id := range ids {
		i := slices.IndexFunc(groups, func(g store.SkillGroup) bool { return g.ID == id })
		if i < 0 || groups[i].Disabled {
			continue // removed or switched off since the site was saved
		}
		s := protocol.ConsultSkill{ID: id, Name: groups[i].Name}
		if out.ShowAgents {
			s.Online = new(readyIn[id])
		}
		anyReady = anyReady || readyIn[id]
		out.Skills = append(out.Skills, s)
	}
	return out, anyReady, nil
}
