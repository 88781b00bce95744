package archive_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/api/archive"
	"github.com/kefu-im/kefu/gateway/api/archive/archivetest"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/loadgen/eio"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	services "github.com/kefu-im/kefu/services/archive"
)

type apiError struct {
	Error protocol.Error `json:"error"`
}

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func ids(items []archive.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.AgentServiceID
	}
	return out
}

// list searches the archive as token, failing unless it answers 200.
func list(t *testing.T, n *nodetest.Node, token string, q url.Values) archive.Page {
	t.Helper()
	var page archive.Page
	if r := n.Do(http.MethodGet, "/api/v1/archive?"+q.Encode(), token, nil, &page); r.StatusCode != http.StatusOK {
		t.Fatalf("GET /archive?%s: %d", q.Encode(), r.StatusCode)
	}
	return page
}

func TestSearchValidation(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nodetest.Options{})
	admin := n.Admin()
	for _, q := range []string{
		"from=yesterday", "to=2026-13-01", "from=2026-04-02&to=2026-04-01", "rating=0", "rating=6", "rating=five",
		"endby=boredom", "reviewed=maybe", "limit=201", "limit=-1", "q=" + strings.Repeat("a", 201), "q=%25%25", "before=xyz",
		"appid=" + strings.Repeat("x", 65),
	} {
		var e apiError
		r := n.Do(http.MethodGet, "/api/v1/archive?"+q, admin, nil, &e)
		if r.StatusCode != http.StatusBadRequest || e.Error.Code != protocol.CodeBadRequest || e.Error.Message == "" {
			t.Errorf("%s: %d %+v, want bad_request with a message", q, r.StatusCode, e)
		}
	}
	if r := n.Do(http.MethodGet, "/api/v1/archive", "", nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d", r.StatusCode)
	}
	// The good forms.
	for _, q := range []string{"from=2026-04-01&to=2026-04-01", "rating=none&reviewed=no&endby=timeout&limit=200", "q=" + url.QueryEscape("退货 50%")} {
		if r := n.Do(http.MethodGet, "/api/v1/archive?"+q, admin, nil, nil); r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", q, r.StatusCode)
		}
	}
}

// eachBackend runs fn on a node over SQLite and one over MariaDB (skipped
// without a server).
func eachBackend(t *testing.T, fn func(t *testing.T, n *nodetest.Node)) {
	for _, mysql := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "mysql"}[mysql]
		t.Run(name, func(t *testing.T) { fn(t, nodetest.Start(t, nodetest.Options{MySQL: mysql})) })
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	eachBackend(t, testScope)
}

func testScope(t *testing.T, n *nodetest.Node) {
	tm := archivetest.New(t, n)
	ctx := t.Context()
	ann := tm.Ended(t, store.Session{Skill: tm.Sales, AgentNo: tm.Ann.ID}, t0, "hello parcel")
	bob := tm.Ended(t, store.Session{Skill: tm.Support, AgentNo: tm.Bob.ID}, t0.Add(time.Minute), "parcel broken")
	// Ann served in Support once (a transfer): she belongs to Sales, so Sue sees it.
	annInSupport := tm.Ended(t, store.Session{Skill: tm.Support, AgentNo: tm.Ann.ID}, t0.Add(2*time.Minute), "parcel again")
	unrouted := tm.Ended(t, store.Session{EndBy: protocol.EndByQueue}, t0.Add(3*time.Minute), "anyone? parcel")
	if err := n.Store.CreateTenant(ctx, &store.Tenant{ID: "other", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Store.CreateSite(ctx, &store.Site{AppID: "othersite", Orgi: "other", Name: "x"}); err != nil {
		t.Fatal(err)
	}
	foreign := tm.Ended(t, store.Session{Orgi: "other", AppID: "othersite"}, t0, "parcel elsewhere")
	tm.Index(t)

	for _, tc := range []struct {
		who  string
		m    archivetest.Member
		want []string
	}{
		{"an agent: its own", tm.Ann, []string{annInSupport.ID, ann.ID}},
		{"another agent: its own", tm.Bob, []string{bob.ID}},
		{"the supervisor of Sales: not Support's", tm.Sue, []string{unrouted.ID, annInSupport.ID, ann.ID}},
		{"the admin: the tenant", tm.Admin, []string{unrouted.ID, annInSupport.ID, bob.ID, ann.ID}},
	} {
		for _, q := range []url.Values{{}, {"q": {"parcel"}}} {
			if got := ids(list(t, n, tc.m.Token, q).Items); !slices.Equal(got, tc.want) {
				t.Errorf("%s, %v: %v, want %v", tc.who, q, got, tc.want)
			}
		}
	}
	// An agent filtering on someone else gets nothing, not their chats.
	if got := list(t, n, tm.Ann.Token, url.Values{"agent": {tm.Bob.ID}}).Items; len(got) != 0 {
		t.Errorf("Ann asking for Bob's: %v", ids(got))
	}

	transcript := func(token, id string) (int, string) {
		var e apiError
		r := n.Do(http.MethodGet, "/api/v1/archive/"+id, token, nil, &e)
		return r.StatusCode, e.Error.Code
	}
	for _, tc := range []struct {
		who, token, id string
		status         int
		code           string
	}{
		{"Ann, Bob's", tm.Ann.Token, bob.ID, http.StatusForbidden, protocol.CodeForbidden},
		{"Sue, Bob's", tm.Sue.Token, bob.ID, http.StatusForbidden, protocol.CodeForbidden},
		{"Sue, Ann's", tm.Sue.Token, ann.ID, http.StatusOK, ""},
		{"admin, another tenant's", tm.Admin.Token, foreign.ID, http.StatusNotFound, protocol.CodeNotFound},
		{"admin, none", tm.Admin.Token, "nope", http.StatusNotFound, protocol.CodeNotFound},
	} {
		if status, code := transcript(tc.token, tc.id); status != tc.status || code != tc.code {
			t.Errorf("transcript, %s: %d %q, want %d %q", tc.who, status, code, tc.status, tc.code)
		}
	}
	// Bob serving Ann's old visitor now may read that visitor's earlier chat.
	now := store.Session{Orgi: demo.Tenant, AppID: demo.AppID, UserID: ann.UserID, AgentNo: tm.Bob.ID, Status: protocol.SessionInService}
	if err := n.Store.CreateSession(ctx, &now); err != nil {
		t.Fatal(err)
	}
	if status, _ := transcript(tm.Bob.Token, ann.ID); status != http.StatusOK {
		t.Errorf("Bob serving the visitor now, their earlier chat: %d", status)
	}
}

func TestFiltersAndPaging(t *testing.T) {
	t.Parallel()
	eachBackend(t, testFiltersAndPaging)
}

func testFiltersAndPaging(t *testing.T, n *nodetest.Node) {
	tm := archivetest.New(t, n)
	var all []string
	for i := range 5 {
		s := tm.Ended(t, store.Session{Skill: tm.Sales, AgentNo: tm.Ann.ID, Nickname: "Lena"}, t0.Add(time.Duration(i)*time.Hour), "我要退货", "好的")
		all = append([]string{s.ID}, all...)
	}
	rated := tm.Ended(t, store.Session{AgentNo: tm.Bob.ID, Name: "Carl Jensen", EndBy: protocol.EndByUser}, t0.Add(10*time.Hour), "great service, 50% faster")
	if ok, err := n.Store.RateSession(t.Context(), rated.ID, 4, "fast", t0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	tm.Index(t)
	admin := tm.Admin.Token
	for _, tc := range []struct {
		q    url.Values
		want []string
	}{
		{url.Values{"q": {"退货"}, "agent": {tm.Ann.ID}}, all},
		{url.Values{"q": {"50%"}}, []string{rated.ID}},
		{url.Values{"q": {"50_"}}, nil},
		{url.Values{"rating": {"4"}, "endby": {"user"}}, []string{rated.ID}},
		{url.Values{"rating": {"none"}, "skill": {tm.Sales}}, all},
		{url.Values{"visitor": {"jensen"}}, []string{rated.ID}},
		{url.Values{"from": {t0.Add(90 * time.Minute).Format(time.RFC3339)}, "to": {t0.Add(4 * time.Hour).Format(time.RFC3339)}}, all[1:3]},
		{url.Values{"appid": {"elsewhere"}}, nil},
	} {
		if got := ids(list(t, n, admin, tc.q).Items); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.q, got, tc.want)
		}
	}
	// Pages of 2 through the Chinese query: every chat once, newest first.
	var got []string
	q := url.Values{"q": {"我要退货"}, "limit": {"2"}}
	for pages := 0; ; pages++ {
		page := list(t, n, admin, q)
		got = append(got, ids(page.Items)...)
		if page.Next == "" || pages > 5 {
			break
		}
		q.Set("before", page.Next)
	}
	if !slices.Equal(got, all) {
		t.Errorf("paged: %v, want %v", got, all)
	}
	item := list(t, n, admin, url.Values{"rating": {"4"}}).Items[0]
	if item.AgentName != "Bob" || item.Rating != 4 || item.RatingComment != "fast" || item.Messages != 1 || item.EndBy != "user" ||
		time.Time(item.EndTime).IsZero() || item.Name != "Carl Jensen" || item.Tags == nil {
		t.Errorf("item: %+v", item)
	}
}

func TestTranscriptWithEventsAndNotes(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nodetest.Options{})
	tm := archivetest.New(t, n)
	ctx := t.Context()
	sess := tm.Ended(t, store.Session{Skill: tm.Sales, AgentNo: tm.Ann.ID}, t0, "Hi", "Hello, how can I help?", "Where is my order?")
	evs := []store.SessionEvent{
		{Kind: protocol.SessionAssigned, Target: tm.Bob.ID, CreatedAt: t0.Add(-9 * time.Minute)},
		{Kind: protocol.SessionTransferred, Actor: tm.Bob.ID, Target: tm.Sales, Detail: "sales question", CreatedAt: t0.Add(-8 * time.Minute)},
		{Kind: protocol.SessionJoined, Actor: tm.Sue.ID, CreatedAt: t0.Add(-5 * time.Minute)},
		{Kind: protocol.SessionEnded, Actor: tm.Ann.ID, Detail: protocol.EndByAgent, CreatedAt: t0},
	}
	for i := range evs {
		evs[i].SessionID, evs[i].Orgi = sess.ID, demo.Tenant
	}
	if err := n.Store.AppendSessionEvents(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Store.AddNote(ctx, &store.SessionNote{SessionID: sess.ID, ClientID: "w1", Orgi: demo.Tenant, AuthorID: tm.Sue.ID, AuthorName: "Sue", Body: "offer a voucher", CreatedAt: t0.Add(-4 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var tr archive.Transcript
	if r := n.Do(http.MethodGet, "/api/v1/archive/"+sess.ID, tm.Ann.Token, nil, &tr); r.StatusCode != http.StatusOK {
		t.Fatalf("transcript: %d", r.StatusCode)
	}
	var bodies []string
	for _, m := range tr.Messages {
		bodies = append(bodies, m.Message)
	}
	if !slices.Equal(bodies, []string{"Hi", "Hello, how can I help?", "Where is my order?"}) || tr.Truncated {
		t.Errorf("messages %q truncated=%v", bodies, tr.Truncated)
	}
	if len(tr.Notes) != 1 || tr.Notes[0].Message != "offer a voucher" || tr.Notes[0].NickName != "Sue" {
		t.Errorf("notes: %+v", tr.Notes)
	}
	var kinds []string
	for _, e := range tr.Events {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []string{"assigned", "transferred", "joined", "ended"}) {
		t.Fatalf("events: %v", kinds)
	}
	if e := tr.Events[1]; e.ActorName != "Bob" || e.TargetName != "Sales" || e.Detail != "sales question" {
		t.Errorf("transferred: %+v", e)
	}
	if tr.Events[0].TargetName != "Bob" || tr.Events[2].ActorName != "Sue" {
		t.Errorf("names: %+v", tr.Events)
	}
	if tr.Session.AgentServiceID != sess.ID || tr.Session.SkillName != "Sales" || tr.Review != nil {
		t.Errorf("session %+v review %+v", tr.Session, tr.Review)
	}
}

func TestExportCSV(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nodetest.Options{})
	tm := archivetest.New(t, n)
	a := tm.Ended(t, store.Session{Skill: tm.Sales, AgentNo: tm.Ann.ID, Nickname: "王小明", Phone: "+86 138 0000 0000"}, t0, "你好")
	b := tm.Ended(t, store.Session{AgentNo: tm.Ann.ID, Nickname: `=HYPERLINK("x")`, Name: "Ann, \"quoted\""}, t0.Add(time.Hour), "hello")
	tm.Ended(t, store.Session{AgentNo: tm.Bob.ID}, t0.Add(2*time.Hour), "not Ann's")
	req, _ := http.NewRequest(http.MethodGet, n.URL+"/api/v1/archive/export.csv?agent="+tm.Ann.ID, nil)
	req.Header.Set("Authorization", "Bearer "+tm.Admin.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="kefu-archive-`) {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no byte order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "agentserviceid" || rows[1][0] != b.ID || rows[2][0] != a.ID {
		t.Fatalf("rows: %q", rows)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	if rows[2][col("nickname")] != "王小明" || rows[2][col("skill")] != "Sales" || rows[2][col("agent")] != "Ann" ||
		rows[2][col("end_utc")] != "2026-04-01 09:00:00" || rows[2][col("phone")] != "'+86 138 0000 0000" || rows[2][col("messages")] != "1" {
		t.Errorf("row of a: %q", rows[2])
	}
	if rows[1][col("nickname")] != `'=HYPERLINK("x")` || rows[1][col("name")] != `Ann, "quoted"` {
		t.Errorf("row of b: %q", rows[1])
	}
	var e apiError
	if r := n.Do(http.MethodGet, "/api/v1/archive/export.csv?rating=9", tm.Admin.Token, nil, &e); r.StatusCode != http.StatusBadRequest {
		t.Errorf("bad filter: %d", r.StatusCode)
	}
}

// TestIndexerMakesAnEndedChatSearchable drives the real flow: a visitor's
// socket, a ready agent, messages both ways, the agent ends the chat; the
// indexer running beside the node makes it searchable within seconds.
func TestIndexerMakesAnEndedChatSearchable(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nodetest.Options{})
	tm := archivetest.New(t, n)
	ctx := t.Context()
	defer services.Start(ctx, n.Store, slog.New(slog.DiscardHandler))()

	agent := n.Socket(protocol.NamespaceAgent, url.Values{"token": {tm.Ann.Token}}, nil)
	if r := n.Do(http.MethodPut, "/api/v1/agent/status", tm.Ann.Token, map[string]string{"status": protocol.AgentReady}, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("ready: %d", r.StatusCode)
	}
	statuses := make(chan protocol.VisitorStatus, 16)
	visitor := n.Socket(protocol.NamespaceUser, n.Visitor("mia"), func(event string, arg json.RawMessage) {
		if event == protocol.EventStatus {
			statuses <- decode[protocol.VisitorStatus](t, arg)
		}
	})
	ack := call[protocol.NewChatAck](t, visitor, protocol.EventNew, protocol.NewChat{Name: "Mia"})
	for st := range statuses {
		if st.State == protocol.StateAssigned && st.AgentNo == tm.Ann.ID {
			break
		}
		if st.State != protocol.StateQueued && st.State != protocol.StateNoAgent {
			t.Fatalf("status %+v", st)
		}
	}
	sid := ack.AgentServiceID
	call[protocol.MessageAck](t, visitor, protocol.EventMessage, protocol.SendMessage{Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText, Message: "Where is my parcel? 我的包裹在哪里", ClientID: "v1"})
	call[protocol.MessageAck](t, agent, protocol.EventMessage, protocol.SendMessage{AgentServiceID: sid, Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText, Message: "It left our warehouse today.", ClientID: "a1"})
	if got := list(t, n, tm.Ann.Token, url.Values{"q": {"包裹"}}).Items; len(got) != 0 {
		t.Fatalf("a chat in service is in the archive: %v", ids(got))
	}
	if r := n.Do(http.MethodPost, "/api/v1/sessions/"+sid+"/end", tm.Ann.Token, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("end: %d", r.StatusCode)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		got := list(t, n, tm.Ann.Token, url.Values{"q": {"包裹"}}).Items
		if len(got) == 1 && got[0].AgentServiceID == sid {
			if got[0].EndBy != protocol.EndByAgent || got[0].Name != "Mia" || got[0].Messages < 2 {
				t.Errorf("item: %+v", got[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ended chat was not searchable within 10 s")
		}
		time.Sleep(50 * time.Millisecond) // polling the archive's state
	}
	if got := list(t, n, tm.Ann.Token, url.Values{"q": {"warehouse today"}}).Items; len(got) != 1 {
		t.Errorf("the agent's words: %v", ids(got))
	}
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Errorf("%s: %v", raw, err)
	}
	return v
}

// call emits event with an acknowledgement and decodes a good one.
func call[T any](t *testing.T, c *eio.Client, event string, arg any) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	raw, err := c.Call(ctx, event, arg)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	var ok struct {
		OK bool `json:"ok"`
	}
	if json.Unmarshal(raw, &ok); !ok.OK {
		t.Fatalf("%s: %s", event, raw)
	}
	return decode[T](t, raw)
}
