package node_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// routingSite is the demo site bound to two skill groups, each with one
// ready agent: what the widget's routing is tested on.
type routingSite struct {
	t              *testing.T
	n              *nodetest.Node
	admin          string
	sales, support string // group ids, bound in this order
	seller, helper *agentSock
}

type agentSock struct {
	id, token string
	sock      *nodetest.Recorder
}

const routeWait = 10 * time.Second

func newRoutingSite(t *testing.T, o nodetest.Options) *routingSite {
	t.Helper()
	n := nodetest.Start(t, o)
	rs := &routingSite{t: t, n: n, admin: n.Admin(), sales: newGroup(t, n, "Sales", false), support: newGroup(t, n, "Support", false)}
	rs.seller = rs.readyAgent("seller", rs.sales)
	rs.helper = rs.readyAgent("helper", rs.support)
	if code := rs.putSite(nil, []string{rs.support, rs.sales}); code != http.StatusOK {
		t.Fatalf("bind the site: %d", code)
	}
	return rs
}

func newGroup(t *testing.T, n *nodetest.Node, name string, disabled bool) string {
	t.Helper()
	g := &store.SkillGroup{Orgi: demo.Tenant, Name: name, Disabled: disabled}
	if err := n.Store.CreateSkill(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	return g.ID
}

func (rs *routingSite) readyAgent(username string, groups ...string) *agentSock {
	rs.t.Helper()
	id, token := rs.n.Staff(demo.Tenant, username, "agent", 5, groups...)
	a := &agentSock{id: id, token: token, sock: rs.n.Record(protocol.NamespaceAgent, url.Values{"token": {token}})}
	mark := a.sock.Len()
	if resp := rs.n.Do(http.MethodPut, "/api/v1/agent/status", token, map[string]string{"status": "ready"}, nil); resp.StatusCode != http.StatusOK {
		rs.t.Fatalf("ready: %d", resp.StatusCode)
	}
	a.sock.WaitFor(mark, protocol.EventAgentStatus, func(arg json.RawMessage) bool { return hasField(arg, "status", "ready") }, routeWait)
	return a
}

// putSite saves the demo site with config (nil: none) and skills (nil:
// unchanged), answering the status.
func (rs *routingSite) putSite(config map[string]any, skills []string) int {
	rs.t.Helper()
	body := map[string]any{"name": "Demo", "origins": []string{"*"}}
	if config != nil {
		body["config"] = config
	}
	if skills != nil {
		body["skills"] = skills
	}
	return rs.n.Do(http.MethodPut, "/api/v1/admin/sites/"+demo.AppID, rs.admin, body, nil).StatusCode
}

// open starts a chat of a new visitor (connect query extra), answering the
// `new` acknowledgement and the visitor's socket.
func (rs *routingSite) open(visitor string, extra url.Values, p protocol.NewChat) (json.RawMessage, *nodetest.Recorder) {
	rs.t.Helper()
	q := rs.n.Visitor(visitor)
	for k, v := range extra {
		q[k] = v
	}
	v := rs.n.Record(protocol.NamespaceUser, q)
	var ack json.RawMessage
	v.Ack(protocol.EventNew, p, &ack)
	return ack, v
}

func (rs *routingSite) session(ack json.RawMessage) store.Session {
	rs.t.Helper()
	var a protocol.NewChatAck
	if json.Unmarshal(ack, &a) != nil || !a.OK {
		rs.t.Fatalf("new refused: %s", ack)
	}
	s, err := rs.n.Store.GetSession(context.Background(), a.AgentServiceID)
	if err != nil {
		rs.t.Fatal(err)
	}
	return s
}

func ackCode(raw json.RawMessage) string {
	var a protocol.ErrorAck
	if json.Unmarshal(raw, &a) != nil || a.OK || a.Error == nil {
		return ""
	}
	return a.Error.Code
}

// TestSiteSkillsAreTheTenantsLiveGroups: a site binds only enabled groups
// of its own tenant, distinct, and keeps their order.
func TestSiteSkillsAreTheTenantsLiveGroups(t *testing.T) {
	rs := newRoutingSite(t, nodetest.Options{})
	ctx := context.Background()
	if err := rs.n.Store.CreateTenant(ctx, &store.Tenant{ID: "t2", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	foreign := &store.SkillGroup{Orgi: "t2", Name: "Theirs"}
	if err := rs.n.Store.CreateSkill(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	off := newGroup(t, rs.n, "Closed", true)
	for name, skills := range map[string][]string{
		"unknown":  {"nosuchgroup"},
		"foreign":  {rs.sales, foreign.ID},
		"disabled": {off},
		"twice":    {rs.sales, rs.sales},
	} {
		if code := rs.putSite(nil, skills); code != http.StatusBadRequest {
			t.Errorf("%s group: %d, want 400", name, code)
		}
	}
	type siteRow struct {
		AppID  string   `json:"appid"`
		Skills []string `json:"skills"`
	}
	var sites []siteRow
	rs.n.Do(http.MethodGet, "/api/v1/admin/sites", rs.admin, nil, &sites)
	i := slices.IndexFunc(sites, func(s siteRow) bool { return s.AppID == demo.AppID })
	if i < 0 || !slices.Equal(sites[i].Skills, []string{rs.support, rs.sales}) {
		t.Fatalf("sites: %+v, want demo bound to support then sales", sites)
	}
	// An update without skills keeps them.
	if code := rs.putSite(map[string]any{"welcome": "hi"}, nil); code != http.StatusOK {
		t.Fatalf("update: %d", code)
	}
	if s, _ := rs.n.Store.GetSite(ctx, demo.AppID); !slices.Equal(s.SkillIDs(), []string{rs.support, rs.sales}) {
		t.Fatalf("skills after an update without them: %v", s.SkillIDs())
	}
}

// TestWidgetConfigOffersThePicker: the config answer lists the site's
// groups in its order, with whether someone is ready only when the site
// shows it; a group switched off later is left out.
func TestWidgetConfigOffersThePicker(t *testing.T) {
	rs := newRoutingSite(t, nodetest.Options{})
	type answer struct {
		Agents  bool              `json:"agents"`
		Consult *protocol.Consult `json:"consult"`
	}
	var out answer
	rs.n.Do(http.MethodGet, "/im/"+demo.AppID+"/config", "", nil, &out)
	if out.Consult == nil || len(out.Consult.Skills) != 2 || out.Consult.Skills[0].Name != "Support" || out.Consult.Skills[1].ID != rs.sales {
		t.Fatalf("consult: %+v", out.Consult)
	}
	if out.Consult.Skills[0].Online != nil || out.Consult.ShowAgents {
		t.Fatalf("online shown though the site does not show it: %+v", out.Consult)
	}
	if code := rs.putSite(map[string]any{"consult": map[string]any{"title": "Pick one", "showagents": true}}, nil); code != http.StatusOK {
		t.Fatalf("save consult: %d", code)
	}
	// Support's only agent goes not ready: Support is offline, Sales online.
	mark := rs.helper.sock.Len()
	if resp := rs.n.Do(http.MethodPut, "/api/v1/agent/status", rs.helper.token, map[string]string{"status": "notready"}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("not ready: %d", resp.StatusCode)
	}
	rs.helper.sock.WaitFor(mark, protocol.EventAgentStatus, func(a json.RawMessage) bool { return hasField(a, "status", "notready") }, routeWait)
	out = answer{}
	rs.n.Do(http.MethodGet, "/im/"+demo.AppID+"/config", "", nil, &out)
	c := out.Consult
	if c == nil || c.Title != "Pick one" || !c.ShowAgents || c.Skills[0].Online == nil || *c.Skills[0].Online || !*c.Skills[1].Online || !out.Agents {
		t.Fatalf("consult with agents: %+v (agents %v)", c, out.Agents)
	}
	if err := rs.n.Store.UpdateSkill(context.Background(), &store.SkillGroup{ID: rs.sales, Orgi: demo.Tenant, Name: "Sales", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	out = answer{}
	rs.n.Do(http.MethodGet, "/im/"+demo.AppID+"/config", "", nil, &out)
	if len(out.Consult.Skills) != 1 || out.Consult.Skills[0].ID != rs.support || out.Agents {
		t.Fatalf("after Sales is switched off: %+v (agents %v: nobody of the site's groups is ready)", out.Consult, out.Agents)
	}
	if code := rs.putSite(map[string]any{"consult": map[string]any{"title": string(make([]rune, 65))}}, nil); code != http.StatusBadRequest {
		t.Fatalf("a 65-character title: %d, want 400", code)
	}
}

// TestVisitorSkillIsOneOfTheSites: a skill outside the site's groups is
// refused at connect and at `new`; with several groups and none asked for
// the visitor must pick; an allowed pick routes to that group's agent.
func TestVisitorSkillIsOneOfTheSites(t *testing.T) {
	rs := newRoutingSite(t, nodetest.Options{MySQL: true})
	q := rs.n.Visitor("v-bad")
	q.Set("skill", "nosuchgroup")
	bad := rs.n.Record(protocol.NamespaceUser, q)
	ev := bad.WaitFor(0, protocol.EventRefused, nil, routeWait)
	if !hasField(ev.Arg, "code", protocol.CodeBadSkill) {
		t.Fatalf("refused %s, want bad_skill", ev.Arg)
	}

	if ack, _ := rs.open("v-none", nil, protocol.NewChat{}); ackCode(ack) != protocol.CodeBadSkill {
		t.Fatalf("new without a skill on a two-group site: %s, want bad_skill", ack)
	}
	if ack, _ := rs.open("v-other", nil, protocol.NewChat{Skill: "nosuchgroup"}); ackCode(ack) != protocol.CodeBadSkill {
		t.Fatalf("new with a foreign skill: %s, want bad_skill", ack)
	}

	ack, v := rs.open("v-sales", nil, protocol.NewChat{Skill: rs.sales})
	if s := rs.session(ack); s.Skill != rs.sales {
		t.Fatalf("session skill %q, want sales", s.Skill)
	}
	st := v.WaitFor(0, protocol.EventStatus, func(a json.RawMessage) bool { return hasField(a, "state", protocol.StateAssigned) }, routeWait)
	if !hasField(st.Arg, "agentno", rs.seller.id) {
		t.Fatalf("assigned %s, want the seller", st.Arg)
	}

	// The connect query's skill counts when `new` names none.
	ack, _ = rs.open("v-query", url.Values{"skill": {rs.support}}, protocol.NewChat{})
	if s := rs.session(ack); s.Skill != rs.support {
		t.Fatalf("session skill %q, want support from the query", s.Skill)
	}

	// A site with a single group needs no pick.
	if code := rs.putSite(nil, []string{rs.sales}); code != http.StatusOK {
		t.Fatalf("bind one group: %d", code)
	}
	ack, _ = rs.open("v-single", nil, protocol.NewChat{})
	if s := rs.session(ack); s.Skill != rs.sales {
		t.Fatalf("session skill %q, want the site's only group", s.Skill)
	}
}

// TestPresetAgentIsChecked: a preset agent is asked for first only when it
// is a live agent of the tenant in one of the site's groups (whose group
// the chat then has); anyone else is ignored.
func TestPresetAgentIsChecked(t *testing.T) {
	rs := newRoutingSite(t, nodetest.Options{})
	ctx := context.Background()
	ack, _ := rs.open("v-helper", url.Values{"agent": {rs.helper.id}}, protocol.NewChat{})
	if s := rs.session(ack); s.Agent != rs.helper.id || s.Skill != rs.support {
		t.Fatalf("preset helper: agent %q skill %q, want the helper in support", s.Agent, s.Skill)
	}

	outsider, _ := rs.n.Staff(demo.Tenant, "outsider", "agent", 5)
	gone, _ := rs.n.Staff(demo.Tenant, "gone", "agent", 5, rs.sales)
	if a, err := rs.n.Store.GetAgent(ctx, gone); err != nil {
		t.Fatal(err)
	} else if a.Disabled = true; rs.n.Store.UpdateAgent(ctx, &a, nil) != nil {
		t.Fatal("disable the agent")
	}
	if err := rs.n.Store.CreateTenant(ctx, &store.Tenant{ID: "t2", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	foreign, _ := rs.n.Staff("t2", "foreign", "agent", 5)
	for name, id := range map[string]string{"outside the groups": outsider, "disabled": gone, "of another tenant": foreign, "unknown": "nobody"} {
		ack, _ := rs.open("v-"+id, nil, protocol.NewChat{Agent: id, Skill: rs.sales})
		if s := rs.session(ack); s.Agent != "" || s.Skill != rs.sales {
			t.Errorf("agent %s: session agent %q skill %q, want no agent in sales", name, s.Agent, s.Skill)
		}
	}
	// Ignored, it picks no group either: the visitor still has to.
	if ack, _ := rs.open("v-outsider-noskill", url.Values{"agent": {outsider}}, protocol.NewChat{}); ackCode(ack) != protocol.CodeBadSkill {
		t.Fatalf("ignored agent, no skill: %s, want bad_skill", ack)
	}
}

// TestSatisfactionSettings: the site's settings are validated, and the
// gateway refuses ratings (and rating requests) when they are off, and
// levels beyond the scale.
func TestSatisfactionSettings(t *testing.T) {
	rs := newRoutingSite(t, nodetest.Options{})
	for name, sat := range map[string]map[string]any{
		"scale 4":           {"scale": 4},
		"labels for 5 of 3": {"scale": 3, "labels": []string{"a", "b", "c", "d", "e"}},
		"an empty label":    {"scale": 3, "labels": []string{"a", " ", "c"}},
		"when later":        {"when": "later"},
		"enabled yes":       {"enabled": "yes"},
	} {
		if code := rs.putSite(map[string]any{"satisfaction": sat}, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, code)
		}
	}
	served := func(visitor string) (string, *nodetest.Recorder) {
		ack, v := rs.open(visitor, nil, protocol.NewChat{Skill: rs.sales})
		s := rs.session(ack)
		v.WaitFor(0, protocol.EventStatus, func(a json.RawMessage) bool { return hasField(a, "state", protocol.StateAssigned) }, routeWait)
		return s.ID, v
	}
	rate := func(v *nodetest.Recorder, sid string, level int) string {
		var ack json.RawMessage
		v.Ack(protocol.EventSatisfaction, protocol.Satisfaction{AgentServiceID: sid, Level: level}, &ack)
		return ackCode(ack)
	}

	sat3 := map[string]any{"scale": 3, "labels": []string{"Bad", "OK", "Great"}, "comment": false, "when": "request"}
	if code := rs.putSite(map[string]any{"satisfaction": sat3}, nil); code != http.StatusOK {
		t.Fatalf("save a 3-level scale: %d", code)
	}
	sid, v := served("v-three")
	if code := rate(v, sid, 4); code != protocol.CodeBadRequest {
		t.Fatalf("level 4 of 3: %q, want bad_request", code)
	}
	if code := rate(v, sid, 3); code != "" {
		t.Fatalf("level 3 of 3: %q, want ok", code)
	}

	if code := rs.putSite(map[string]any{"satisfaction": map[string]any{"enabled": false}}, nil); code != http.StatusOK {
		t.Fatalf("switch ratings off: %d", code)
	}
	sid, v = served("v-off")
	if code := rate(v, sid, 5); code != protocol.CodeConflict {
		t.Fatalf("rating with ratings off: %q, want conflict", code)
	}
	var out struct {
		Error protocol.Error `json:"error"`
	}
	resp := rs.n.Do(http.MethodPost, "/api/v1/sessions/"+sid+"/rating-request", rs.seller.token, nil, &out)
	if resp.StatusCode != http.StatusConflict || out.Error.Message == "" {
		t.Fatalf("rating request with ratings off: %d %+v, want 409", resp.StatusCode, out)
	}
}
