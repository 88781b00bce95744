package api

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/geoip"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// EventRead keeps an agent's tabs in step about what it has read.
const EventRead = "read"

// agentSession is a session in the agent's list, with its read state and
// its latest message (the list's preview).
type agentSession struct {
	protocol.SessionSummary
	ReadSeq int64                 `json:"readseq"`
	Unread  int                   `json:"unread"`
	EndTime *protocol.Time        `json:"endtime,omitempty"`
	Last    *protocol.ChatMessage `json:"last,omitempty"`
}

// endedLookback bounds how far back `ended` reaches: about a shift.
const endedLookback = 24 * time.Hour

// mySessions lists the caller's chats in service and, with `ended=<time>`,
// those ended since then (at most a day back, the latest 50).
func (a *API) mySessions(c echo.Context) error {
	ctx := c.Request().Context()
	p := request.Principal(c)
	ss, err := a.Store.ListAgentSessions(ctx, p.Agent.ID, protocol.SessionInService)
	if err != nil {
		return err
	}
	if v := c.QueryParam("ended"); v != "" {
		since, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return protocol.Errorf(protocol.CodeBadRequest, "ended: an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
		}
		if floor := time.Now().Add(-endedLookback); since.Before(floor) {
			since = floor
		}
		ended, err := a.Store.EndedAgentSessions(ctx, p.Agent.ID, since, 50)
		if err != nil {
			return err
		}
		ss = append(ss, ended...)
	}
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	read, err := a.Store.ReadSeqs(ctx, p.Agent.ID, ids)
	if err != nil {
		return err
	}
	after := make(map[string]int64, len(ss))
	for _, s := range ss {
		after[s.ID] = read[s.ID]
	}
	unread, err := a.Store.CountVisitorMessagesAfter(ctx, after)
	if err != nil {
		return err
	}
	last, err := a.Store.LastMessages(ctx, ids)
	if err != nil {
		return err
	}
	out := make([]agentSession, len(ss))
	for i, s := range ss {
		out[i] = agentSession{SessionSummary: s.Summary(), ReadSeq: read[s.ID], Unread: unread[s.ID]}
		if s.EndTime != nil {
			t := protocol.Time(*s.EndTime)
			out[i].EndTime = &t
		}
		if m, ok := last[s.ID]; ok {
			chat := m.Chat()
			out[i].Last = &chat
		}
	}
	return c.JSON(http.StatusOK, out)
}

type readRequest struct {
	Seq int64 `json:"seq"`
}

// markRead records how far the caller has read a chat and tells its tabs.
func (a *API) markRead(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Read)
	if err != nil {
		return err
	}
	var in readRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if in.Seq < 0 || in.Seq > sess.LastSeq {
		in.Seq = sess.LastSeq
	}
	ctx := c.Request().Context()
	p := request.Principal(c)
	seq, err := a.Store.MarkRead(ctx, p.Agent.ID, sess.ID, in.Seq)
	if err != nil {
		return err
	}
	unread, err := a.Store.CountVisitorMessagesAfter(ctx, map[string]int64{sess.ID: seq})
	if err != nil {
		return err
	}
	view := protocol.ReadMark{AgentServiceID: sess.ID, ReadSeq: seq, Unread: unread[sess.ID]}
	if err := a.Emit.ToAgent(ctx, p.Agent.ID, EventRead, view); err != nil {
		a.Logger.WarnContext(ctx, "read state not sent to the other tabs", "err", err)
	}
	if sess.AgentNo == p.Agent.ID {
		// Supervisors see how far the serving agent has read.
		scope := protocol.Mirror{Skill: sess.Skill, AgentNo: sess.AgentNo, Session: sess.ID}
		if err := a.Emit.ToMonitors(ctx, sess.Orgi, protocol.EventAuditRead, scope, view); err != nil {
			a.Logger.WarnContext(ctx, "read state not mirrored", "err", err)
		}
	}
	return c.JSON(http.StatusOK, view)
}

// visitorPanel is what the workbench shows about a chat's visitor.
func (a *API) visitorPanel(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Read)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	traces, err := a.Store.ListTraces(ctx, sess.AppID, sess.UserID, 50)
	if err != nil {
		return err
	}
	trail := make([]map[string]any, len(traces))
	for i, t := range traces {
		trail[i] = map[string]any{"title": t.Title, "url": t.URL, "referrer": t.Referrer, "createtime": protocol.Time(t.CreatedAt)}
	}
	earlier, err := a.Store.ListVisitorSessions(ctx, sess.AppID, sess.UserID, 21)
	if err != nil {
		return err
	}
	sessions := make([]protocol.SessionSummary, 0, len(earlier))
	for _, s := range earlier {
		if s.ID != sess.ID && len(sessions) < 20 {
			sessions = append(sessions, s.Summary())
		}
	}
	tags, err := a.Store.SessionTags(ctx, sess.ID)
	if err != nil {
		return err
	}
	visitorTags, err := a.Store.VisitorTags(ctx, sess.AppID, sess.UserID)
	if err != nil {
		return err
	}
	out := map[string]any{
		"appid": sess.AppID, "userid": sess.UserID, "nickname": sess.Nickname, "ip": sess.IP, "osname": sess.OSName,
		"browser": sess.Browser, "url": sess.URL, "referrer": sess.Referrer, "title": sess.Title,
		"trail": trail, "sessions": sessions, "tags": nonNil(tags), "visitortags": nonNil(visitorTags), "summary": sess.ServiceSummary,
		"contact": map[string]string{"name": sess.Name, "phone": sess.Phone, "email": sess.Email},
	}
	if loc, ok := a.locate(sess.IP); ok {
		out["location"] = loc
	}
	return c.JSON(http.StatusOK, out)
}

// locate looks up a session's stored IP: the visitor socket's remote
// address, "host:port", or a bare address.
func (a *API) locate(ip string) (geoip.Location, bool) {
	if a.Locator == nil {
		return geoip.Location{}, false
	}
	if ap, err := netip.ParseAddrPort(ip); err == nil {
		return a.Locator.Lookup(ap.Addr())
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return geoip.Location{}, false
	}
	return a.Locator.Lookup(addr)
}

type summaryRequest struct {
	Summary string `json:"summary"`
}

func (r summaryRequest) Validate() error {
	return request.MaxText("summary", r.Summary, 2000)
}

func (a *API) setSummary(c echo.Context) error {
	sess, err := a.sessionFor(c, access.Write)
	if err != nil {
		return err
	}
	var in summaryRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	if err := a.Store.SetSummary(c.Request().Context(), sess.ID, strings.TrimSpace(in.Summary)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"summary": strings.TrimSpace(in.Summary)})
}

// handled is when an inbox item was handled, for its view.
func handled(t *time.Time) any {
	if t == nil {
		return nil
	}
	return protocol.Time(*t)
}
