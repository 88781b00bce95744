// Package audit keeps the audit log of administration: a middleware
// records every successful change under /api/v1/admin and /api/v1/platform
// (who, what, which, when, from where, with the request's secrets
// redacted), and admins list and export their tenant's log.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the audit log reads and writes.
type Store interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	ListAudit(ctx context.Context, q store.AuditQuery) (store.AuditPage, error)
}

// Audited route prefixes: the tenant's administration and the platform's.
const (
	adminPrefix    = "/api/v1/admin/"
	platformPrefix = "/api/v1/platform/"
)

// Limits of what an entry keeps.
const (
	MaxDetail = 4096 // bytes of the redacted request
	maxTarget = 128  // the column's size
)

// Middleware records the successful changes (any method but GET, HEAD and
// OPTIONS, answered 2xx) of the audited routes, in the actor's tenant. A
// failed write of the log is logged: the change itself has happened.
func Middleware(st Store, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !audited(r.Method, r.URL.Path) {
				return next(c)
			}
			body, readErr := capture(r)
			// A creation's route names nothing: its answer says what was made.
			var created *createdID
			if len(c.ParamNames()) == 0 && r.Method == http.MethodPost {
				created = &createdID{ResponseWriter: c.Response().Writer}
				c.Response().Writer = created
			}
			if err := next(c); err != nil {
				return err
			}
			if readErr != nil || !c.Response().Committed || c.Response().Status/100 != 2 {
				return nil
			}
			actor := request.Principal(c).Agent
			if actor.Orgi == "" {
				return nil
			}
			e := store.AuditEntry{
				Orgi: actor.Orgi, ActorID: actor.ID, ActorName: actor.Nickname, Action: Action(r.Method, c.Path()),
				Target: target(c, created), Detail: Detail(r.Header.Get(echo.HeaderContentType), body), IP: c.RealIP(),
			}
			if err := st.AppendAudit(r.Context(), e); err != nil {
				log.WarnContext(r.Context(), "audit entry not recorded", "action", e.Action, "actor", e.ActorID, "err", err)
			}
			return nil
		}
	}
}

func audited(method, path string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return strings.HasPrefix(path, adminPrefix) || strings.HasPrefix(path, platformPrefix)
}

// capture reads the request's body for the log and puts it back for the
// handler. The body limit applies already; a read that fails (too large)
// fails the handler's read the same way.
func capture(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	rest := io.Reader(bytes.NewReader(b))
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	r.Body = io.NopCloser(rest)
	return b, err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Action names a change from its method and route template: the route's
// fixed segments below /admin (or /platform, prefixed "platform."), then
// update for PUT and PATCH, delete for DELETE, and for POST create when it
// names a collection ("POST /admin/agents" → "agents.create"). A POST
// below an item or collection names its own action ("POST
// /admin/agents/:id/password" → "agents.password").
func Action(method, route string) string {
	rest, prefix := strings.TrimPrefix(route, adminPrefix), ""
	if p, ok := strings.CutPrefix(route, platformPrefix); ok {
		rest, prefix = p, "platform."
	}
	var words []string
	for seg := range strings.SplitSeq(rest, "/") {
		if seg != "" && !strings.HasPrefix(seg, ":") && seg != "*" {
			words = append(words, seg)
		}
	}
	name := prefix + strings.Join(words, ".")
	switch method {
	case http.MethodPut, http.MethodPatch:
		return name + ".update"
	case http.MethodDelete:
		return name + ".delete"
	case http.MethodPost:
		if len(words) <= 1 {
			return name + ".create"
		}
		return name
	}
	return name + "." + strings.ToLower(method)
}

// target is the changed thing: the route's first parameter (the main
// resource: ":id" of /agents/:id/logins/:lid), or for a creation the id its
// answer gave the new thing.
func target(c echo.Context, created *createdID) string {
	names := c.ParamNames()
	if len(names) == 0 {
		if created == nil {
			return ""
		}
		return clip(created.id(), maxTarget)
	}
	return clip(c.Param(names[0]), maxTarget)
}

// createdID keeps the start of a creation's answer, enough for its id.
type createdID struct {
	http.ResponseWriter
	head []byte
}

const createdHead = 4096

func (w *createdID) Write(b []byte) (int, error) {
	if room := createdHead - len(w.head); room > 0 {
		w.head = append(w.head, b[:min(room, len(b))]...)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *createdID) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// id is the answer's "id" or "appid", or those of its one nested object (a
// tenant created with its admin answers {tenant, admin}: the first wins).
func (w *createdID) id() string {
	var top map[string]json.RawMessage
	if json.Unmarshal(w.head, &top) != nil {
		return ""
	}
	if id := idOf(top); id != "" {
		return id
	}
	for _, k := range []string{"tenant", "site", "agent", "tag", "category"} {
		var inner map[string]json.RawMessage
		if json.Unmarshal(top[k], &inner) == nil {
			if id := idOf(inner); id != "" {
				return id
			}
		}
	}
	return ""
}

func idOf(obj map[string]json.RawMessage) string {
	for _, k := range []string{"id", "appid"} {
		var s string
		if json.Unmarshal(obj[k], &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// secretWords mark the keys whose values never reach the log.
var secretWords = []string{"password", "secret", "token"}

// redacted is what stands for a secret.
const redacted = "***"

// truncated ends a detail cut at MaxDetail.
const truncated = "…[truncated]"

// Detail is the request body as the log keeps it: JSON with the value of
// every key naming a password, secret or token (at any depth) replaced by
// "***", at most MaxDetail bytes (a longer one is cut and ends with
// "…[truncated]"). Anything that is not JSON is described, not kept.
func Detail(contentType string, body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if !strings.HasPrefix(contentType, echo.MIMEApplicationJSON) || d.Decode(&v) != nil {
		b, _ := json.Marshal(struct {
			ContentType string `json:"contenttype"`
			Bytes       int    `json:"bytes"`
		}{contentType, len(body)})
		return string(b)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(redact(v)) // decoded JSON always encodes
	s := strings.TrimSuffix(out.String(), "\n")
	if len(s) <= MaxDetail {
		return s
	}
	return clip(s, MaxDetail-len(truncated)) + truncated
}

func redact(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if secret(k) {
				t[k] = redacted
			} else {
				t[k] = redact(x)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = redact(x)
		}
	}
	return v
}

func secret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// clip cuts s to at most n bytes, at a character's start.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
