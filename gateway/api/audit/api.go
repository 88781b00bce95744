package audit

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/archive/listing"
	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Deps are the API's collaborators.
type Deps struct {
	Store  Store
	Logger *slog.Logger
}

// API serves the audit log to admins.
type API struct{ Deps }

// New returns the API.
func New(d Deps) *API { return &API{Deps: d} }

// Register mounts the routes on staff, the authenticated /api/v1 group.
func (a *API) Register(staff *echo.Group) {
	admin := request.RequireRole(protocol.RoleAdmin)
	staff.GET("/admin/audit", a.list, admin)
	staff.GET("/admin/audit/export.csv", a.export, admin)
}

// Entry is one audit entry.
type Entry struct {
	ID        int64         `json:"id"`
	Time      protocol.Time `json:"time"`
	Actor     string        `json:"actor"` // the actor's id; empty for sign-in events
	ActorName string        `json:"actorname"`
	Action    string        `json:"action"`
	Target    string        `json:"target"`
	Detail    string        `json:"detail"`
	IP        string        `json:"ip"`
}

// Page is a page of entries; Next (when set) is the before of the next.
type Page struct {
	Entries []Entry `json:"entries"`
	Next    string  `json:"next"`
}

// Limits of a query's text parameters.
const (
	maxParam = 64
	maxQuery = 200
)

// query reads the filters: from, to, actor, action and q.
func query(c echo.Context) (store.AuditQuery, error) {
	q := store.AuditQuery{
		Orgi: request.Principal(c).Agent.Orgi, ActorID: c.QueryParam("actor"), Action: c.QueryParam("action"), Text: c.QueryParam("q"),
	}
	for _, p := range []struct {
		name, v string
		max     int
	}{{"actor", q.ActorID, maxParam}, {"action", q.Action, maxParam}, {"q", q.Text, maxQuery}} {
		if utf8.RuneCountInString(p.v) > p.max {
			return q, protocol.Errorf(protocol.CodeBadRequest, "%s must be at most %d characters", p.name, p.max)
		}
	}
	var err error
	q.From, q.To, err = listing.TimeRange(c)
	return q, err
}

func (a *API) list(c echo.Context) error {
	q, err := query(c)
	if err != nil {
		return err
	}
	var before *listing.Cursor
	if q.Limit, before, err = listing.Page(c); err != nil {
		return err
	}
	if before != nil {
		pk, err := strconv.ParseInt(before.ID, 10, 64)
		if err != nil {
			return protocol.Errorf(protocol.CodeBadRequest, "before must be a next value of an earlier page")
		}
		q.Before = &store.AuditCursor{At: before.At, PK: pk}
	}
	page, err := a.Store.ListAudit(c.Request().Context(), q)
	if err != nil {
		return err
	}
	out := Page{Entries: make([]Entry, len(page.Entries))}
	for i, e := range page.Entries {
		out.Entries[i] = entryOf(e)
	}
	if n := page.Next; n != nil {
		out.Next = listing.Cursor{At: n.At, ID: strconv.FormatInt(n.PK, 10)}.String()
	}
	return c.JSON(http.StatusOK, out)
}

func entryOf(e store.AuditEntry) Entry {
	return Entry{
		ID: e.PK, Time: protocol.Time(e.CreatedAt), Actor: e.ActorID, ActorName: e.ActorName,
		Action: e.Action, Target: e.Target, Detail: e.Detail, IP: e.IP,
	}
}

// MaxExport bounds the rows of one CSV export.
const MaxExport = 10000

var exportHeader = []string{"time_utc", "actor_id", "actor", "action", "target", "ip", "detail"}

// export writes the filtered log, newest first, as CSV (see listing.CSV).
func (a *API) export(c echo.Context) error {
	q, err := query(c)
	if err != nil {
		return err
	}
	w := listing.NewCSV(exportHeader)
	for rows := 0; rows < MaxExport; {
		q.Limit = min(store.MaxAuditPage, MaxExport-rows)
		page, err := a.Store.ListAudit(c.Request().Context(), q)
		if err != nil {
			return err
		}
		for _, e := range page.Entries {
			w.Row([]string{
				e.CreatedAt.UTC().Format(time.DateTime), e.ActorID, listing.Cell(e.ActorName), e.Action,
				listing.Cell(e.Target), e.IP, listing.Cell(e.Detail),
			})
		}
		rows += len(page.Entries)
		if page.Next == nil {
			break
		}
		q.Before = page.Next
	}
	return w.Send(c, "kefu-audit")
}
