package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/pkg/logging"
)

// requestLogServer is an Echo with RequestLog and the API's error handler,
// logging JSON at level into buf.
func requestLogServer(buf *bytes.Buffer, level slog.Level) *echo.Echo {
	log := slog.New(logging.NewHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level})))
	e := echo.New()
	e.HTTPErrorHandler = ErrorHandler(log)
	e.Use(RequestLog(log))
	e.GET("/api/v1/thing", func(c echo.Context) error {
		log.InfoContext(c.Request().Context(), "handler says hello")
		return c.String(http.StatusOK, "thing")
	})
	e.GET("/files/:id/:token", func(c echo.Context) error { return c.String(http.StatusOK, "file") })
	e.GET("/broken", func(echo.Context) error { return errors.New("boom") })
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	return e
}

func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestRequestID(t *testing.T) {
	for _, tc := range []struct {
		name, incoming string
		keep           bool
	}{
		{"valid incoming id is kept", "lb-7f3a.42:abc_DEF", true},
		{"none: generated", "", false},
		{"too long: replaced", strings.Repeat("a", maxRequestIDLen+1), false},
		{"longest accepted", strings.Repeat("a", maxRequestIDLen), true},
		{"space: replaced", "a b", false},
		{"markup: replaced", `<script>"x"</script>`, false},
		{"newline: replaced", "a\nlevel=ERROR", false},
		{"non-ASCII: replaced", "ïd", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := requestLogServer(&buf, slog.LevelInfo)
			req := httptest.NewRequest(http.MethodGet, "/api/v1/thing", nil)
			if tc.incoming != "" {
				req.Header[HeaderRequestID] = []string{tc.incoming}
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			got := rec.Header().Get(HeaderRequestID)
			if tc.keep && got != tc.incoming {
				t.Fatalf("response %s = %q, want the incoming %q", HeaderRequestID, got, tc.incoming)
			}
			if !tc.keep && !generatedID.MatchString(got) {
				t.Fatalf("response %s = %q, want a generated id (incoming %q)", HeaderRequestID, got, tc.incoming)
			}
			lines := logLines(t, &buf)
			if len(lines) != 2 {
				t.Fatalf("want the handler's line and the access line, got %d: %s", len(lines), buf.String())
			}
			for _, l := range lines {
				if l["request_id"] != got {
					t.Errorf("line %v: request_id = %v, want %q", l["msg"], l["request_id"], got)
				}
			}
			access := lines[1]
			want := map[string]any{"msg": "http request", "level": "INFO", "method": "GET", "path": "/api/v1/thing", "status": float64(200), "bytes": float64(len("thing"))}
			for k, v := range want {
				if access[k] != v {
					t.Errorf("access line %s = %v, want %v", k, access[k], v)
				}
			}
			if _, ok := access["duration"]; !ok {
				t.Errorf("access line without duration: %v", access)
			}
		})
	}
}

func TestRequestLogNeverLogsCredentials(t *testing.T) {
	var buf bytes.Buffer
	e := requestLogServer(&buf, slog.LevelDebug)
	for _, target := range []string{
		"/api/v1/thing?token=SECRET-Q-TOKEN&sign=SECRET-Q-SIGN",
		"/files/f1/SECRET-PATH-TOKEN?sign=SECRET-Q-SIGN2",
		"/broken?token=SECRET-ERR-TOKEN",
		"/nowhere?token=SECRET-404-TOKEN",
		"/socket.io/?EIO=3&transport=polling&token=SECRET-SIO-TOKEN",
	} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, target, nil))
	}
	if strings.Contains(buf.String(), "SECRET") {
		t.Fatalf("a credential reached the log:\n%s", buf.String())
	}
	paths := map[string]float64{}
	failures := 0
	for _, l := range logLines(t, &buf) {
		if l["msg"] == "request failed" {
			failures++
			if !generatedID.MatchString(fmt.Sprint(l["request_id"])) {
				t.Errorf("the error handler's line has no request_id: %v", l)
			}
		}
		if l["msg"] == "http request" {
			paths[l["path"].(string)] = l["status"].(float64)
		}
	}
	if failures != 1 {
		t.Errorf("want one \"request failed\" line (GET /broken), got %d", failures)
	}
	want := map[string]float64{"/api/v1/thing": 200, "/files/:id/:token": 200, "/broken": 500, "/nowhere": 404, "/socket.io/": 404}
	for p, st := range want {
		if paths[p] != st {
			t.Errorf("access log for %s: status %v, want %v (all: %v)", p, paths[p], st, paths)
		}
	}
}

func TestRequestLogProbesAtDebug(t *testing.T) {
	var buf bytes.Buffer
	e := requestLogServer(&buf, slog.LevelInfo)
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if buf.Len() != 0 {
		t.Fatalf("/healthz logged at info: %s", buf.String())
	}
	buf.Reset()
	e = requestLogServer(&buf, slog.LevelDebug)
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if lines := logLines(t, &buf); len(lines) != 1 || lines[0]["level"] != "DEBUG" || lines[0]["path"] != "/healthz" {
		t.Fatalf("/healthz at debug: %s", buf.String())
	}
}
