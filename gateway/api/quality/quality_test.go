package quality_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/api/archive"
	"github.com/kefu-im/kefu/gateway/api/archive/archivetest"
	"github.com/kefu-im/kefu/gateway/api/quality"
	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

type apiError struct {
	Error protocol.Error `json:"error"`
}

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		lines []store.ReviewLine
		want  float64
	}{
		{nil, 0},
		{[]store.ReviewLine{{Weight: 1, Score: 5}}, 100},
		{[]store.ReviewLine{{Weight: 1, Score: 5}, {Weight: 3, Score: 2}}, 55},
		{[]store.ReviewLine{{Weight: 1, Score: 1}, {Weight: 2, Score: 4}}, 60},
		{[]store.ReviewLine{{Weight: 3, Score: 2}, {Weight: 0 + 3, Score: 5}, {Weight: 3, Score: 0}}, 46.7},
		{[]store.ReviewLine{{Weight: 7, Score: 0}}, 0},
	} {
		if got := quality.Score(tc.lines); got != tc.want {
			t.Errorf("Score(%+v) = %v, want %v", tc.lines, got, tc.want)
		}
	}
}

func TestChecklist(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nodetest.Options{})
	tm := archivetest.New(t, n)
	var items []quality.Item
	if r := n.Do(http.MethodGet, "/api/v1/quality/items", tm.Ann.Token, nil, &items); r.StatusCode != http.StatusOK || len(items) != 0 {
		t.Fatalf("empty checklist: %d %v", r.StatusCode, items)
	}
	put := func(token string, body any) (int, []quality.Item) {
		var raw json.RawMessage
		status := n.Do(http.MethodPut, "/api/v1/admin/quality/items", token, body, &raw).StatusCode
		var out []quality.Item
		if status == http.StatusOK {
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatal(err)
			}
		}
		return status, out
	}
	good := map[string]any{"items": []map[string]any{{"name": "Greeting", "weight": 1}, {"name": " Accuracy ", "weight": 3}}}
	for _, tok := range []string{tm.Ann.Token, tm.Sue.Token} {
		if status, _ := put(tok, good); status != http.StatusForbidden {
			t.Errorf("a non-admin edits the checklist: %d", status)
		}
	}
	many := make([]map[string]any, quality.MaxItems+1)
	for i := range many {
		many[i] = map[string]any{"name": strings.Repeat("x", i+1), "weight": 1}
	}
	for _, bad := range []any{
		map[string]any{"items": []map[string]any{{"name": "", "weight": 1}}},
		map[string]any{"items": []map[string]any{{"name": strings.Repeat("长", 129), "weight": 1}}},
		map[string]any{"items": []map[string]any{{"name": "Tone", "weight": 1}, {"name": "tone", "weight": 2}}},
		map[string]any{"items": []map[string]any{{"name": "Tone", "weight": 0}}},
		map[string]any{"items": []map[string]any{{"name": "Tone", "weight": 101}}},
		map[string]any{"items": []map[string]any{{"id": "nope", "name": "Tone", "weight": 1}}},
		map[string]any{"items": many},
	} {
		if status, _ := put(tm.Admin.Token, bad); status != http.StatusBadRequest {
			t.Errorf("%v: %d, want 400", bad, status)
		}
	}
	status, saved := put(tm.Admin.Token, good)
	if status != http.StatusOK || len(saved) != 2 || saved[1].Name != "Accuracy" || saved[1].Weight != 3 || saved[0].ID == "" {
		t.Fatalf("saved: %d %+v", status, saved)
	}
	// Reordered and one renamed, by id; an agent reads it.
	status, _ = put(tm.Admin.Token, map[string]any{"items": []map[string]any{{"id": saved[1].ID, "name": "Accuracy", "weight": 3}, {"id": saved[0].ID, "name": "Greeting & name", "weight": 2}}})
	n.Do(http.MethodGet, "/api/v1/quality/items", tm.Ann.Token, nil, &items)
	if status != http.StatusOK || len(items) != 2 || items[0].ID != saved[1].ID || items[1].Name != "Greeting & name" || items[1].Weight != 2 {
		t.Errorf("reordered: %d %+v", status, items)
	}
	if status, items := put(tm.Admin.Token, map[string]any{"items": []any{}}); status != http.StatusOK || len(items) != 0 {
		t.Errorf("cleared: %d %+v", status, items)
	}
}

func TestReviewRules(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nodetest.Options{})
	tm := archivetest.New(t, n)
	ctx := t.Context()
	annChat := tm.Ended(t, store.Session{Skill: tm.Sales, AgentNo: tm.Ann.ID}, t0, "hello")
	bobChat := tm.Ended(t, store.Session{Skill: tm.Support, AgentNo: tm.Bob.ID}, t0, "hello")
	sueChat := tm.Ended(t, store.Session{Skill: tm.Sales, AgentNo: tm.Sue.ID}, t0, "hello")
	unserved := tm.Ended(t, store.Session{EndBy: protocol.EndByQueue}, t0)
	open := store.Session{Orgi: demo.Tenant, AppID: demo.AppID, UserID: "still-chatting", Skill: tm.Sales, AgentNo: tm.Ann.ID, Status: protocol.SessionInService}
	if err := n.Store.CreateSession(ctx, &open); err != nil {
		t.Fatal(err)
	}
	review := func(token, id string, body any) (int, string, quality.Review) {
		var out struct {
			quality.Review
			Error protocol.Error `json:"error"`
		}
		r := n.Do(http.MethodPut, "/api/v1/sessions/"+id+"/review", token, body, &out)
		return r.StatusCode, out.Error.Code, out.Review
	}
	// No checklist yet.
	if status, code, _ := review(tm.Sue.Token, annChat.ID, map[string]any{"scores": []any{}}); status != http.StatusConflict {
		t.Errorf("without a checklist: %d %s", status, code)
	}
	var items []quality.Item
	n.Do(http.MethodPut, "/api/v1/admin/quality/items", tm.Admin.Token, map[string]any{"items": []map[string]any{{"name": "Greeting", "weight": 1}, {"name": "Accuracy", "weight": 3}}}, &items)
	if len(items) != 2 {
		t.Fatalf("checklist: %+v", items)
	}
	scores := func(greeting, accuracy int) map[string]any {
		return map[string]any{"scores": []map[string]any{{"item": items[0].ID, "score": greeting}, {"item": items[1].ID, "score": accuracy}}, "comment": "Friendly; <b>check</b> the order number first."}
	}
	for _, tc := range []struct {
		name, token, id string
		body            any
		status          int
	}{
		{"not ended", tm.Sue.Token, open.ID, scores(5, 5), http.StatusConflict},
		{"nobody served it", tm.Admin.Token, unserved.ID, scores(5, 5), http.StatusConflict},
		{"an agent (no write right)", tm.Bob.Token, annChat.ID, scores(5, 5), http.StatusForbidden},
		{"the chat's own agent", tm.Ann.Token, annChat.ID, scores(5, 5), http.StatusForbidden},
		{"a supervisor, its own chat", tm.Sue.Token, sueChat.ID, scores(5, 5), http.StatusForbidden},
		{"a supervisor of another scope", tm.Sue.Token, bobChat.ID, scores(5, 5), http.StatusForbidden},
		{"another tenant's or no chat", tm.Sue.Token, "nope", scores(5, 5), http.StatusNotFound},
		{"an item missing", tm.Sue.Token, annChat.ID, map[string]any{"scores": []map[string]any{{"item": items[0].ID, "score": 5}}}, http.StatusBadRequest},
		{"an unknown item", tm.Sue.Token, annChat.ID, map[string]any{"scores": []map[string]any{{"item": items[0].ID, "score": 5}, {"item": items[1].ID, "score": 5}, {"item": "x", "score": 1}}}, http.StatusBadRequest},
		{"an item twice", tm.Sue.Token, annChat.ID, map[string]any{"scores": []map[string]any{{"item": items[0].ID, "score": 5}, {"item": items[0].ID, "score": 4}, {"item": items[1].ID, "score": 5}}}, http.StatusBadRequest},
		{"a score of 6", tm.Sue.Token, annChat.ID, scores(6, 5), http.StatusBadRequest},
		{"no score", tm.Sue.Token, annChat.ID, map[string]any{"scores": []map[string]any{{"item": items[0].ID}, {"item": items[1].ID, "score": 5}}}, http.StatusBadRequest},
	} {
		if status, code, _ := review(tc.token, tc.id, tc.body); status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, code, tc.status)
		}
	}
	var e apiError
	if r := n.Do(http.MethodGet, "/api/v1/sessions/"+annChat.ID+"/review", tm.Ann.Token, nil, &e); r.StatusCode != http.StatusNotFound {
		t.Errorf("no review yet: %d", r.StatusCode)
	}

	status, _, got := review(tm.Sue.Token, annChat.ID, scores(5, 2))
	if status != http.StatusOK || got.Score != 55 || got.ReviewerName != "Sue" || got.AgentNo != tm.Ann.ID || len(got.Items) != 2 ||
		got.Items[1] != (store.ReviewLine{Item: items[1].ID, Name: "Accuracy", Weight: 3, Score: 2}) {
		t.Fatalf("review: %d %+v", status, got)
	}
	// The admin scores it again; the agent reads the new one.
	if status, _, got = review(tm.Admin.Token, annChat.ID, scores(4, 4)); status != http.StatusOK || got.Score != 80 {
		t.Fatalf("re-scored: %d %+v", status, got)
	}
	var read quality.Review
	if r := n.Do(http.MethodGet, "/api/v1/sessions/"+annChat.ID+"/review", tm.Ann.Token, nil, &read); r.StatusCode != http.StatusOK || read.Score != 80 || read.ReviewerName != "Admin" || !strings.Contains(read.Comment, "<b>check</b>") {
		t.Errorf("the agent reads its review: %d %+v", r.StatusCode, read)
	}
	if r := n.Do(http.MethodGet, "/api/v1/sessions/"+annChat.ID+"/review", tm.Bob.Token, nil, &e); r.StatusCode != http.StatusForbidden {
		t.Errorf("another agent reads it: %d", r.StatusCode)
	}
	// The transcript shows it, and the reviewed events.
	var tr archive.Transcript
	n.Do(http.MethodGet, "/api/v1/archive/"+annChat.ID, tm.Ann.Token, nil, &tr)
	var reviewers []string
	for _, ev := range tr.Events {
		if ev.Kind == protocol.SessionReviewed {
			reviewers = append(reviewers, ev.ActorName+" "+ev.Detail)
		}
	}
	if tr.Review == nil || tr.Review.Score != 80 || !slices.Equal(reviewers, []string{"Sue 55.0", "Admin 80.0"}) {
		t.Errorf("transcript: review %+v events %v", tr.Review, reviewers)
	}
	// A later checklist edit leaves the old review's items as they were.
	n.Do(http.MethodPut, "/api/v1/admin/quality/items", tm.Admin.Token, map[string]any{"items": []map[string]any{{"name": "Empathy", "weight": 1}}}, nil)
	n.Do(http.MethodGet, "/api/v1/sessions/"+annChat.ID+"/review", tm.Ann.Token, nil, &read)
	if len(read.Items) != 2 || read.Items[0].Name != "Greeting" {
		t.Errorf("after a checklist edit: %+v", read.Items)
	}
}

func TestReviewList(t *testing.T) {
	t.Parallel()
	n := nodetest.Start(t, nodetest.Options{})
	tm := archivetest.New(t, n)
	var items []quality.Item
	n.Do(http.MethodPut, "/api/v1/admin/quality/items", tm.Admin.Token, map[string]any{"items": []map[string]any{{"name": "Tone", "weight": 1}}}, &items)
	reviewed := func(s store.Session, score int) string {
		t.Helper()
		sess := tm.Ended(t, s, t0, "hi")
		body := map[string]any{"scores": []map[string]any{{"item": items[0].ID, "score": score}}}
		if r := n.Do(http.MethodPut, "/api/v1/sessions/"+sess.ID+"/review", tm.Admin.Token, body, nil); r.StatusCode != http.StatusOK {
			t.Fatalf("review: %d", r.StatusCode)
		}
		return sess.ID
	}
	ann1 := reviewed(store.Session{Skill: tm.Sales, AgentNo: tm.Ann.ID, Nickname: "Lena"}, 5)
	ann2 := reviewed(store.Session{Skill: tm.Sales, AgentNo: tm.Ann.ID}, 3)
	bob1 := reviewed(store.Session{Skill: tm.Support, AgentNo: tm.Bob.ID}, 1)
	get := func(token string, q url.Values) []string {
		t.Helper()
		var out []string
		for pages := 0; pages < 10; pages++ {
			var l quality.List
			if r := n.Do(http.MethodGet, "/api/v1/quality/reviews?"+q.Encode(), token, nil, &l); r.StatusCode != http.StatusOK {
				t.Fatalf("list %v: %d", q, r.StatusCode)
			}
			for _, it := range l.Items {
				if it.Session.AgentServiceID != it.AgentServiceID || it.AgentName == "" || time.Time(it.EndTime).IsZero() {
					t.Errorf("listed: %+v", it)
				}
				out = append(out, it.AgentServiceID)
			}
			if l.Next == "" {
				break
			}
			q.Set("before", l.Next)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	for _, tc := range []struct {
		who, token string
		q          url.Values
		want       []string
	}{
		{"Ann: her own", tm.Ann.Token, url.Values{}, sorted(ann1, ann2)},
		{"Ann asking for Bob's: none", tm.Ann.Token, url.Values{"agent": {tm.Bob.ID}}, nil},
		{"Bob: his own", tm.Bob.Token, url.Values{}, []string{bob1}},
		{"Sue: Sales", tm.Sue.Token, url.Values{"limit": {"1"}}, sorted(ann1, ann2)},
		{"the admin, by agent", tm.Admin.Token, url.Values{"agent": {tm.Bob.ID}}, []string{bob1}},
		{"the admin, all", tm.Admin.Token, url.Values{}, sorted(ann1, ann2, bob1)},
		{"the admin, made before yesterday", tm.Admin.Token, url.Values{"to": {time.Now().AddDate(0, 0, -2).Format(time.DateOnly)}}, nil},
	} {
		if got := get(tc.token, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.who, got, tc.want)
		}
	}
	var e apiError
	if r := n.Do(http.MethodGet, "/api/v1/quality/reviews?limit=500", tm.Admin.Token, nil, &e); r.StatusCode != http.StatusBadRequest {
		t.Errorf("limit 500: %d", r.StatusCode)
	}
	// The archive's reviewed filter and score column.
	var page archive.Page
	n.Do(http.MethodGet, "/api/v1/archive?reviewed=yes&agent="+tm.Ann.ID, tm.Ann.Token, nil, &page)
	if len(page.Items) != 2 || page.Items[0].Score == nil {
		t.Errorf("archive, reviewed: %+v", page.Items)
	}
}
