// Package archivetest gives the archive's and quality review's API tests a
// team on a nodetest node, made through the admin API: two skill groups,
// an agent in each, a supervisor of the first; and ended conversations,
// stored directly, with the indexer run over them. Only tests import it.
package archivetest

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/services/archive"
)

// Member is a staff member of the team.
type Member struct {
	ID, Token, Nickname string
}

// Team is the demo tenant with its groups and people.
type Team struct {
	N     *nodetest.Node
	Admin Member // the demo admin: the whole tenant
	// Sales and Support are skill group ids. Ann serves in Sales, Bob in
	// Support; Sue supervises Sales.
	Sales, Support string
	Ann, Bob, Sue  Member
}

// New makes the team on n.
func New(t testing.TB, n *nodetest.Node) *Team {
	t.Helper()
	tm := &Team{N: n}
	tm.Admin = Member{ID: tm.agentID(t, demo.Admin), Token: n.Admin(), Nickname: "Admin"}
	tm.Sales, tm.Support = tm.group(t, "Sales"), tm.group(t, "Support")
	tm.Ann = tm.member(t, "ann", "Ann", []string{protocol.RoleAgent}, tm.Sales)
	tm.Bob = tm.member(t, "bob", "Bob", []string{protocol.RoleAgent}, tm.Support)
	tm.Sue = tm.member(t, "sue", "Sue", []string{protocol.RoleSupervisor}, tm.Sales)
	return tm
}

func (tm *Team) agentID(t testing.TB, username string) string {
	t.Helper()
	a, err := tm.N.Store.GetAgentByUsername(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func (tm *Team) group(t testing.TB, name string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if r := tm.N.Do(http.MethodPost, "/api/v1/admin/skills", tm.Admin.Token, map[string]any{"name": name}, &out); r.StatusCode != http.StatusCreated {
		t.Fatalf("create group %s: %d", name, r.StatusCode)
	}
	return out.ID
}

func (tm *Team) member(t testing.TB, username, nickname string, roles []string, skill string) Member {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"username": username, "password": nodetest.Password, "nickname": nickname, "roles": roles, "skills": []string{skill}}
	if r := tm.N.Do(http.MethodPost, "/api/v1/admin/agents", tm.Admin.Token, body, &out); r.StatusCode != http.StatusCreated {
		t.Fatalf("create %s: %d", username, r.StatusCode)
	}
	return Member{ID: out.ID, Token: tm.N.Login(username, nodetest.Password), Nickname: nickname}
}

// Ended stores a conversation of the demo site (the fields of s that are
// set, a fresh visitor otherwise) that ended at end, with messages
// alternating visitor and agent, and returns it.
func (tm *Team) Ended(t testing.TB, s store.Session, end time.Time, msgs ...string) store.Session {
	t.Helper()
	ctx := t.Context()
	if s.Orgi == "" {
		s.Orgi, s.AppID = demo.Tenant, demo.AppID
	}
	if s.UserID == "" {
		s.UserID = "v-" + store.NewID()[:12]
	}
	if s.EndBy == "" {
		s.EndBy = protocol.EndByAgent
	}
	start := end.Add(-10 * time.Minute)
	s.Status, s.CreatedAt, s.EndTime = protocol.SessionEnd, start, &end
	if s.AgentNo != "" {
		s.ServiceTime = &start
	}
	if err := tm.N.Store.CreateSession(ctx, &s); err != nil {
		t.Fatal(err)
	}
	for i, body := range msgs {
		m := store.Message{SessionID: s.ID, ClientID: fmt.Sprintf("c%d", i), Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText, CallType: protocol.CallTypeIn, Body: body, UserID: s.UserID, Nickname: s.Nickname}
		if i%2 == 1 {
			m.CallType, m.UserID, m.Nickname = protocol.CallTypeOut, s.AgentNo, "agent"
		}
		if _, _, err := tm.N.Store.AppendMessage(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tm.N.Store.GetSession(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Index runs the archive's indexer over every ended conversation.
func (tm *Team) Index(t testing.TB) {
	t.Helper()
	if _, err := archive.New(tm.N.Store, slog.New(slog.DiscardHandler), archive.Options{}).Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
}
