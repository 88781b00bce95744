// Package listing is what the REST lists of ended conversations — the
// archive and the quality reviews — share: which conversations the caller
// may list, and the time range, page size and cursor of a request. Other
// lists (the audit log) use its request parameters and CSV cells too.
package listing

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Members gives each of a tenant's agents' skill groups.
type Members interface {
	TenantAgentSkills(ctx context.Context, orgi string) (map[string][]string, error)
}

// Scope is the part of a's tenant a may list: an agent its own chats; a
// supervisor with the read right also those of its supervision scope (the
// chats of the groups in scope, of the agents who belong to them, and those
// with neither group nor agent: see pkg/access); admins the whole tenant.
func Scope(ctx context.Context, r *access.Resolver, m Members, a store.Agent) (store.ChatScope, error) {
	sc := store.ChatScope{AgentNo: a.ID}
	g, err := r.Grant(ctx, a)
	if err != nil {
		return store.ChatScope{}, fmt.Errorf("listing: %w", err)
	}
	if !g.Rights.Has(access.Read) {
		return sc, nil
	}
	if g.Tenant {
		sc.Tenant = true
		return sc, nil
	}
	members, err := m.TenantAgentSkills(ctx, a.Orgi)
	if err != nil {
		return store.ChatScope{}, fmt.Errorf("listing: %w", err)
	}
	for id, groups := range members {
		if g.CoversAgent(groups) {
			sc.Agents = append(sc.Agents, id)
		}
	}
	slices.Sort(sc.Agents)
	sc.Skills = slices.Sorted(maps.Keys(g.Groups))
	sc.Unrouted = true
	return sc, nil
}

// TimeRange reads the query parameters from and to: RFC 3339 times, or
// dates (YYYY-MM-DD, UTC) where to includes its whole day. Absent: open.
func TimeRange(c echo.Context) (from, to time.Time, err error) {
	if from, err = timeParam(c, "from", false); err != nil {
		return
	}
	if to, err = timeParam(c, "to", true); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = protocol.Errorf(protocol.CodeBadRequest, "from must be before to")
	}
	return
}

func timeParam(c echo.Context, name string, end bool) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	return time.Time{}, protocol.Errorf(protocol.CodeBadRequest, "%s must be an RFC 3339 time or a date (YYYY-MM-DD)", name)
}

// MaxLimit is the largest page a list serves.
const MaxLimit = 200

// Limit reads the page size (absent: the store's default).
func Limit(c echo.Context) (int, error) {
	n, err := request.Int(c, "limit")
	if err != nil {
		return 0, err
	}
	if n > MaxLimit {
		return 0, protocol.Errorf(protocol.CodeBadRequest, "limit must be at most %d", MaxLimit)
	}
	return int(n), nil
}

// Page reads a page request: its size (Limit) and the cursor it starts
// after (Before, nil for the first page).
func Page(c echo.Context) (limit int, before *Cursor, err error) {
	if limit, err = Limit(c); err != nil {
		return 0, nil, err
	}
	before, err = Before(c)
	return limit, before, err
}

// Cursor is where a page ended: a time and an id (the tie-breaker). It
// travels as "<unix milliseconds>.<id>", opaque to clients.
type Cursor struct {
	At time.Time
	ID string
}

// String is the cursor as clients pass it back.
func (c Cursor) String() string { return strconv.FormatInt(c.At.UnixMilli(), 10) + "." + c.ID }

// Before reads the query parameter before (nil when absent).
func Before(c echo.Context) (*Cursor, error) {
	v := c.QueryParam("before")
	if v == "" {
		return nil, nil
	}
	ms, id, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" || len(id) > 32 {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "before must be a next value of an earlier page")
	}
	return &Cursor{At: time.UnixMilli(n).UTC(), ID: id}, nil
}

// Cell keeps text that visitors or staff typed from being run as a formula
// by a spreadsheet opening a CSV export: a leading =, +, -, @, tab or CR
// gets a quote before it.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSV is a CSV export built in memory: UTF-8 with a byte order mark, which
// Excel needs to read Chinese right. Typed text goes in through Cell.
type CSV struct {
	buf bytes.Buffer
	w   *csv.Writer
}

// NewCSV starts an export with its header row.
func NewCSV(header []string) *CSV {
	x := &CSV{}
	x.buf.WriteString("\uFEFF")
	x.w = csv.NewWriter(&x.buf)
	x.Row(header)
	return x
}

// Row adds a row.
func (x *CSV) Row(cells []string) {
	_ = x.w.Write(cells) // a bytes.Buffer takes every write
}

// Send answers with the export as a download named <prefix>-<UTC time>.csv.
func (x *CSV) Send(c echo.Context, prefix string) error {
	x.w.Flush()
	return request.CSVFile(c, prefix, x.buf.Bytes())
}
