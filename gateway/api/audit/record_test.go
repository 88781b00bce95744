package audit

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAction(t *testing.T) {
	for _, c := range []struct{ method, route, want string }{
		{"POST", "/api/v1/admin/agents", "agents.create"},
		{"PUT", "/api/v1/admin/agents/:id", "agents.update"},
		{"DELETE", "/api/v1/admin/agents/:id", "agents.delete"},
		{"DELETE", "/api/v1/admin/agents/:id/logins/:lid", "agents.logins.delete"},
		{"DELETE", "/api/v1/admin/agents/:id/lock", "agents.lock.delete"},
		{"POST", "/api/v1/admin/agents/:id/password", "agents.password"},
		{"POST", "/api/v1/admin/agents/import", "agents.import"},
		{"PUT", "/api/v1/admin/sessionconfig", "sessionconfig.update"},
		{"PATCH", "/api/v1/admin/sites/:appid", "sites.update"},
		{"POST", "/api/v1/platform/tenants", "platform.tenants.create"},
		{"PUT", "/api/v1/platform/tenants/:id", "platform.tenants.update"},
	} {
		if got := Action(c.method, c.route); got != c.want {
			t.Errorf("Action(%s %s) = %q, want %q", c.method, c.route, got, c.want)
		}
	}
}

func TestAudited(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/v1/admin/agents", true},
		{"DELETE", "/api/v1/platform/tenants/t1", true},
		{"GET", "/api/v1/admin/agents", false},
		{"HEAD", "/api/v1/admin/audit", false},
		{"POST", "/api/v1/auth/login", false},
		{"PUT", "/api/v1/administrator", false},
	} {
		if got := audited(c.method, c.path); got != c.want {
			t.Errorf("audited(%s %s) = %v", c.method, c.path, got)
		}
	}
}

func TestDetail(t *testing.T) {
	const j = "application/json; charset=UTF-8"
	got := Detail(j, []byte(`{"username":"bob","password":"hunter2","nested":{"Secret":"s","list":[{"apiToken":"t","n":1.50}]},"note":"<b>&</b>"}`))
	want := `{"nested":{"Secret":"***","list":[{"apiToken":"***","n":1.50}]},"note":"<b>&</b>","password":"***","username":"bob"}`
	if got != want {
		t.Errorf("Detail = %s\nwant     %s", got, want)
	}
	if got := Detail("text/csv", []byte("username,password\nbob,x\n")); got != `{"contenttype":"text/csv","bytes":24}` {
		t.Errorf("CSV detail = %s", got)
	}
	if got := Detail(j, []byte("not json")); strings.Contains(got, "not json") {
		t.Errorf("broken JSON kept: %s", got)
	}
	if got := Detail(j, nil); got != "" {
		t.Errorf("empty body: %q", got)
	}
	// Long details are cut at a character's start and say so.
	long := Detail(j, []byte(`{"text":"`+strings.Repeat("客", 3000)+`"}`))
	if len(long) > MaxDetail || !strings.HasSuffix(long, truncated) || !utf8.ValidString(long) {
		t.Errorf("long detail: %d bytes, suffix %q", len(long), long[len(long)-20:])
	}
}

// TestCreatedID: a creation's target is the id its answer gives, top level
// or in its one nested object.
func TestCreatedID(t *testing.T) {
	for body, want := range map[string]string{
		`{"id":"g1","name":"Sales"}`:                   "g1",
		`{"appid":"shop","name":"Shop"}`:               "shop",
		`{"tenant":{"id":"acme"},"admin":{"id":"a1"}}`: "acme",
		`[{"id":"x"}]`:                                 "",
		`not json`:                                     "",
	} {
		w := &createdID{ResponseWriter: httptest.NewRecorder()}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
		if got := w.id(); got != want {
			t.Errorf("%s: target %q, want %q", body, got, want)
		}
	}
}
