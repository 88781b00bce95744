// Package api is the gateway's REST API: visitor identities and history,
// agent login and actions, and administration.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/gateway/ask"
	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/geoip"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the API reads and writes.
type Store interface {
	GetSite(ctx context.Context, appID string) (store.Site, error)
	CreateSite(ctx context.Context, s *store.Site) error
	UpdateSite(ctx context.Context, s *store.Site) error
	ListSites(ctx context.Context, orgi string) ([]store.Site, error)
	UpsertVisitor(ctx context.Context, v store.Visitor) error
	GetVisitor(ctx context.Context, appID, userID string) (store.Visitor, error)
	OpenSession(ctx context.Context, appID, userID string) (store.Session, error)
	GetSession(ctx context.Context, id string) (store.Session, error)
	EndSession(ctx context.Context, id, endBy string, at time.Time) (store.Session, bool, error)
	ListAgentSessions(ctx context.Context, agentNo string, statuses ...string) ([]store.Session, error)
	EndedAgentSessions(ctx context.Context, agentNo string, since time.Time, limit int) ([]store.Session, error)
	LastMessages(ctx context.Context, sessionIDs []string) (map[string]store.Message, error)
	ListMessages(ctx context.Context, sessionID string, afterSeq, beforeSeq int64, limit int) ([]store.Message, error)
	ListVisitorMessages(ctx context.Context, appID, userID, beforeID string, limit int) ([]store.Message, error)
	CreateAgent(ctx context.Context, a *store.Agent, skillIDs []string) error
	ListAgents(ctx context.Context, orgi string) ([]store.Agent, error)
	AgentSkills(ctx context.Context, agentID string) ([]string, error)
	CreateSkill(ctx context.Context, s *store.SkillGroup) error
	ListSkills(ctx context.Context, orgi string) ([]store.SkillGroup, error)
	TenantAgentSkills(ctx context.Context, orgi string) (map[string][]string, error)
	UpdateSkill(ctx context.Context, g *store.SkillGroup) error
	GetAgent(ctx context.Context, id string) (store.Agent, error)
	UpdateAgent(ctx context.Context, a *store.Agent, skillIDs *[]string) error
	DeleteAgentTokens(ctx context.Context, agentID string) error
	DeleteAgent(ctx context.Context, id string) error
	SetSkillMembers(ctx context.Context, orgi, id string, agentIDs []string) error
	DeleteSkill(ctx context.Context, orgi, id string) error
	ListQueued(ctx context.Context, orgi string, limit int) ([]store.Session, error)
	ListAgentStates(ctx context.Context, orgi string) ([]store.AgentState, error)
	GetAgentState(ctx context.Context, agentID string) (store.AgentState, error)
	CreateInvite(ctx context.Context, r *store.InviteRecord) error
	ListInvites(ctx context.Context, orgi, agentID string, limit int) ([]store.InviteRecord, error)
	ServesVisitor(ctx context.Context, agentID, appid, userid string) (bool, error)
	AppendSessionEvents(ctx context.Context, evs ...store.SessionEvent) error
	Roles(ctx context.Context, orgi string) ([]store.Role, error)
	SessionConfigs(ctx context.Context, orgi string) ([]store.SessionConfig, error)
	SaveSessionConfig(ctx context.Context, c store.SessionConfig) error
	DeleteSessionConfig(ctx context.Context, orgi, skill string) error
	CountInService(ctx context.Context, orgi string) (map[string]int, error)
	Prompts(ctx context.Context, orgi string) (prompt.Set, error)
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
	UpdateTenant(ctx context.Context, t *store.Tenant) error
	Blocked(ctx context.Context, appid, userid string) (store.Blacklist, bool, error)
	Block(ctx context.Context, b store.Blacklist) error
	Unblock(ctx context.Context, orgi, appid, userid string) error
	SearchBlacklist(ctx context.Context, q store.BlacklistQuery) ([]store.BlacklistRow, *store.BlacklistCursor, error)
	GetBlock(ctx context.Context, orgi, appid, userid string) (store.Blacklist, error)
	UpdateBlock(ctx context.Context, b store.Blacklist) error
	CreateLeaveMessage(ctx context.Context, m *store.LeaveMessage) error
	ListLeaveMessages(ctx context.Context, orgi, status string, limit int) ([]store.LeaveMessage, error)
	GetLeaveMessage(ctx context.Context, id string) (store.LeaveMessage, error)
	HandleLeaveMessage(ctx context.Context, id, status, note, by string, at time.Time) error
	MarkRead(ctx context.Context, agentID, sessionID string, seq int64) (int64, error)
	ReadSeqs(ctx context.Context, agentID string, sessionIDs []string) (map[string]int64, error)
	CountVisitorMessagesAfter(ctx context.Context, after map[string]int64) (map[string]int, error)
	ListTraces(ctx context.Context, appid, userid string, limit int) ([]store.VisitorTrace, error)
	ListVisitorSessions(ctx context.Context, appid, userid string, limit int) ([]store.Session, error)
	SetSummary(ctx context.Context, sessionID, summary string) error
	CreateTag(ctx context.Context, t *store.Tag) error
	ListTags(ctx context.Context, orgi string) ([]store.Tag, error)
	SessionTags(ctx context.Context, sessionID string) ([]string, error)
	SetSessionTags(ctx context.Context, sessionID string, tagIDs []string) error
	GetTag(ctx context.Context, id string) (store.Tag, error)
	UpdateTag(ctx context.Context, t store.Tag) error
	DeleteTag(ctx context.Context, id string) error
	VisitorTags(ctx context.Context, appid, userid string) ([]string, error)
	SetVisitorTags(ctx context.Context, orgi, appid, userid string, tagIDs []string) error
	CannedOf(ctx context.Context, orgi, owner string) ([]store.CannedReply, error)
	CannedCategories(ctx context.Context, orgi string, owners ...string) ([]store.CannedCategory, error)
	CannedCounts(ctx context.Context, orgi string, owners ...string) (map[string]int, error)
	GetCannedCategory(ctx context.Context, id string) (store.CannedCategory, error)
	CreateCannedCategory(ctx context.Context, c *store.CannedCategory) error
	UpdateCannedCategory(ctx context.Context, c store.CannedCategory) error
	DeleteCannedCategory(ctx context.Context, id, moveTo string) error
	WriteCanned(ctx context.Context, cats []store.CannedCategory, create, update []store.CannedReply) error
	ListCanned(ctx context.Context, orgi, agentID, q string) ([]store.CannedReply, error)
	GetCanned(ctx context.Context, id string) (store.CannedReply, error)
	SaveCanned(ctx context.Context, c *store.CannedReply) error
	DeleteCanned(ctx context.Context, id string) error
	IMUnread(ctx context.Context, agentID string) (map[string]int, map[string]int, error)
	IMGroupsOf(ctx context.Context, agentID string) ([]store.IMGroup, error)
	IMGroupMembers(ctx context.Context, groupID string) (store.IMGroup, []string, error)
	ListIM(ctx context.Context, pair, groupID string, beforePK int64, limit int) ([]store.IMMessage, error)
	CreateIMGroup(ctx context.Context, g *store.IMGroup, members []string) error
	MarkIMRead(ctx context.Context, agentID, with, groupID string) error
}

// Blobs stores uploads (images and files).
type Blobs interface {
	PutAttachment(ctx context.Context, a *store.Attachment) error
	GetAttachment(ctx context.Context, id string, withData bool) (store.Attachment, error)
}

// Emitter reaches sockets anywhere in the cluster.
type Emitter interface {
	ToVisitor(ctx context.Context, appID, userID, event string, v any) error
	ToAgent(ctx context.Context, agentID, event string, v any) error
	ToRoom(ctx context.Context, namespace, room, event string, v any, except string) error
	ToMonitors(ctx context.Context, orgi, event string, scope protocol.Mirror, v any) error
}

// SiteForgetter drops a cached site after an edit.
type SiteForgetter interface{ Forget(appID string) }

// OnlineVisitors lists the visitors with the widget open, on every node.
type OnlineVisitors interface {
	List(ctx context.Context, orgi string) ([]online.Visitor, error)
}

// Locator says where an IP address is (pkg/geoip); none: no locations.
type Locator interface {
	Lookup(ip netip.Addr) (geoip.Location, bool)
}

// Deps are the API's collaborators.
type Deps struct {
	Store       Store
	Blobs       Blobs
	Sites       SiteForgetter
	Auth        *auth.Service
	Access      *access.Resolver // supervision rights and scopes
	Signer      *identity.Signer
	Emit        Emitter
	Commands    command.Sender
	Ask         ask.Asker // commands the routing service answers
	Online      OnlineVisitors
	Locator     Locator // nil: the visitor panel has no location
	PublicURL   string
	VisitorRate int // identities per IP per minute
	NodeID      string
	Logger      *slog.Logger
}

// API holds the handlers.
type API struct {
	Deps
	visitorLimit *limiter
}

// New returns the API.
func New(d Deps) *API {
	return &API{Deps: d, visitorLimit: newLimiter(d.VisitorRate, time.Minute)}
}

// Register mounts every route on e.
func (a *API) Register(e *echo.Echo) {
	e.POST("/im/:appid/visitor", a.issueVisitor)
	e.GET("/im/:appid/messages", a.visitorMessages)
	e.GET("/im/:appid", a.siteScript) // /im/{appid}.js
	e.GET("/im/:appid/widget", a.widgetPage)
	e.GET("/im/:appid/config", a.widgetConfig)
	e.POST("/im/:appid/upload", a.visitorUpload)
	e.POST("/im/:appid/leavemsg", a.leaveMessage)
	e.GET("/files/:id/:token", a.serveFile)

	v1 := e.Group("/api/v1")
	v1.POST("/auth/login", a.login)
	authed := v1.Group("", request.Authenticate(a.Auth))
	authed.POST("/auth/logout", a.logout)
	authed.PUT("/auth/password", a.changePassword)
	authed.PUT("/agent/status", a.setStatus)
	authed.GET("/agent/sessions", a.mySessions)
	authed.GET("/sessions/:id/messages", a.sessionMessages)
	authed.POST("/sessions/:id/end", a.endSession)
	authed.POST("/sessions/:id/transfer", a.transferSession)
	authed.GET("/agents", a.colleagues)
	authed.GET("/skills", a.skillGroups)
	authed.POST("/uploads", a.agentUpload)
	authed.POST("/visitors/:appid/:userid/invite", a.inviteVisitor)
	authed.GET("/invites", a.listInvites)
	authed.POST("/sessions/:id/rating-request", a.requestRating)
	authed.POST("/blacklist", a.block)
	authed.GET("/blacklist", a.listBlocks)
	authed.DELETE("/blacklist/:appid/:userid", a.unblock)
	authed.POST("/sessions/:id/read", a.markRead)
	authed.GET("/sessions/:id/visitor", a.visitorPanel)
	authed.PUT("/sessions/:id/tags", a.setSessionTags)
	authed.PUT("/sessions/:id/summary", a.setSummary)
	authed.GET("/tags", a.listTags)
	authed.POST("/tags", a.createTag, request.RequireRole(protocol.RoleAdmin))
	authed.GET("/canned", a.listCanned)
	authed.POST("/canned", a.saveCanned)
	authed.PUT("/canned/:id", a.saveCanned)
	authed.DELETE("/canned/:id", a.deleteCanned)
	authed.GET("/leavemsgs", a.listLeaveMessages)
	authed.PUT("/leavemsgs/:id", a.handleLeaveMessage)
	authed.GET("/visitors/online", a.onlineVisitors)
	authed.GET("/entim/contacts", a.imContacts)
	authed.GET("/entim/messages", a.imMessages)
	authed.POST("/entim/groups", a.imCreateGroup)
	authed.POST("/entim/read", a.imRead)

	authed.GET("/queue", a.queue)

	admin := authed.Group("/admin", request.RequireRole(protocol.RoleAdmin))
	admin.POST("/skills", a.createSkill)
	admin.GET("/skills", a.listSkills)
	admin.PUT("/skills/:id", a.updateSkill)
	admin.POST("/agents", a.createAgent)
	admin.GET("/agents", a.listAgents)
	admin.PUT("/agents/:id", a.updateAgent)
	admin.POST("/sites", a.createSite)
	admin.GET("/sites", a.listSites)
	admin.PUT("/sites/:appid", a.updateSite)
	admin.GET("/sessionconfig", a.getSessionConfig)
	admin.PUT("/sessionconfig", a.putSessionConfig)
	a.registerTeam(authed, admin)
	a.registerSettings(authed, admin)
	a.registerDictionaries(authed, admin)
	a.registerLogins(authed, admin)
}

// ErrorHandler writes every error as {error: {code, message}} with the
// matching HTTP status, and never leaks internal details.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, pe := classify(err)
		if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, map[string]any{"error": pe})
	}
}

func classify(err error) (int, *protocol.Error) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code := map[int]string{
			http.StatusBadRequest: protocol.CodeBadRequest, http.StatusUnauthorized: protocol.CodeUnauthorized,
			http.StatusForbidden: protocol.CodeForbidden, http.StatusNotFound: protocol.CodeNotFound,
			http.StatusMethodNotAllowed: protocol.CodeNotFound, http.StatusRequestEntityTooLarge: protocol.CodeTooLarge,
			http.StatusTooManyRequests: protocol.CodeRateLimited, http.StatusServiceUnavailable: protocol.CodeUnavailable,
		}[he.Code]
		if code == "" {
			code = protocol.CodeInternal
		}
		return he.Code, &protocol.Error{Code: code, Message: strings.ToLower(http.StatusText(he.Code))}
	}
	pe := protocol.AsError(err)
	return map[string]int{
		protocol.CodeBadRequest: http.StatusBadRequest, protocol.CodeUnauthorized: http.StatusUnauthorized,
		protocol.CodeForbidden: http.StatusForbidden, protocol.CodeNotFound: http.StatusNotFound,
		protocol.CodeConflict: http.StatusConflict, protocol.CodeTooLarge: http.StatusRequestEntityTooLarge,
		protocol.CodeRateLimited: http.StatusTooManyRequests, protocol.CodeUnavailable: http.StatusServiceUnavailable,
		protocol.CodeInternal: http.StatusInternalServerError, protocol.CodeLocked: http.StatusTooManyRequests, protocol.CodeNotReady: http.StatusConflict,
	}[pe.Code], pe
}

func chats(ms []store.Message) []protocol.ChatMessage {
	out := make([]protocol.ChatMessage, len(ms))
	for i, m := range ms {
		out[i] = m.Chat()
	}
	return out
}
