// Package archive is the REST API of ended conversations: search (filters
// and full text), transcripts with their events, whispers and review, and
// the CSV export of a result list.
//
// Who sees what: an agent its own conversations; a supervisor with the read
// right also those of its supervision scope; admins the tenant (see
// listing.Scope). A transcript is open to whoever may read the conversation
// (access.Resolver.MayRead), so an agent serving a visitor now can read
// that visitor's earlier chats too.
package archive

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/archive/listing"
	"github.com/kefu-im/kefu/gateway/api/quality"
	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/fulltext"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the archive API reads.
type Store interface {
	SearchArchive(ctx context.Context, q store.ArchiveQuery) (store.ArchivePage, error)
	GetSession(ctx context.Context, id string) (store.Session, error)
	ServesVisitor(ctx context.Context, agentID, appid, userid string) (bool, error)
	TenantAgentSkills(ctx context.Context, orgi string) (map[string][]string, error)
	AgentNicknames(ctx context.Context, orgi string) (map[string]string, error)
	ListSkills(ctx context.Context, orgi string) ([]store.SkillGroup, error)
	ListTags(ctx context.Context, orgi string) ([]store.Tag, error)
	TagsOf(ctx context.Context, sessionIDs []string) (map[string][]string, error)
	ReviewScores(ctx context.Context, sessionIDs []string) (map[string]float64, error)
	TranscriptMessages(ctx context.Context, sessionID string, max int) ([]store.Message, bool, error)
	ListNotes(ctx context.Context, sessionID string) ([]store.SessionNote, error)
	SessionEvents(ctx context.Context, sessionID string) ([]store.SessionEvent, error)
	GetReview(ctx context.Context, sessionID string) (store.QualityReview, error)
}

// Deps are the API's collaborators.
type Deps struct {
	Store  Store
	Access *access.Resolver
	Logger *slog.Logger
}

// API holds the handlers.
type API struct{ Deps }

// New returns the API.
func New(d Deps) *API { return &API{Deps: d} }

// Register mounts the routes on staff, the authenticated /api/v1 group.
func (a *API) Register(staff *echo.Group) {
	staff.GET("/archive", a.search)
	staff.GET("/archive/export.csv", a.export)
	staff.GET("/archive/:id", a.transcript)
}

// Item is an ended conversation in a result list.
type Item struct {
	protocol.SessionSummary
	ServiceTime   protocol.Time `json:"servicetime"`
	EndTime       protocol.Time `json:"endtime"`
	EndBy         string        `json:"endby"`
	AgentName     string        `json:"agentname"`
	SkillName     string        `json:"skillname"`
	Rating        int           `json:"rating"` // the visitor's 1..5; 0 not rated
	RatingComment string        `json:"ratingcomment,omitempty"`
	Tags          []string      `json:"tags"`            // tag ids
	Score         *float64      `json:"score,omitempty"` // the quality review's, when reviewed
	Messages      int64         `json:"messages"`        // stored messages, system notices included
}

// Page is a page of results; Next (when set) is the before of the next one.
type Page struct {
	Items []Item `json:"items"`
	Next  string `json:"next"`
}

// Limits of a search request.
const (
	maxQuery   = 200 // characters of q
	maxParam   = 64  // characters of an id parameter
	maxVisitor = 128 // characters of visitor
)

var endReasons = []string{protocol.EndByAgent, protocol.EndBySupervisor, protocol.EndByUser, protocol.EndByTimeout, protocol.EndByQueue, protocol.EndBySystem}

// filter reads the search parameters, scoped to what the caller may see.
func (a *API) filter(c echo.Context) (store.ArchiveFilter, error) {
	me := request.Principal(c).Agent
	f := store.ArchiveFilter{
		Orgi: me.Orgi, AppID: c.QueryParam("appid"), Skill: c.QueryParam("skill"), AgentNo: c.QueryParam("agent"),
		Visitor: c.QueryParam("visitor"), Tag: c.QueryParam("tag"), EndBy: c.QueryParam("endby"), Text: c.QueryParam("q"),
	}
	for _, p := range []struct {
		name, v string
		max     int
	}{{"appid", f.AppID, maxParam}, {"skill", f.Skill, maxParam}, {"agent", f.AgentNo, maxParam}, {"tag", f.Tag, maxParam}, {"visitor", f.Visitor, maxVisitor}} {
		if utf8.RuneCountInString(p.v) > p.max {
			return f, protocol.Errorf(protocol.CodeBadRequest, "%s must be at most %d characters", p.name, p.max)
		}
	}
	var err error
	if f.From, f.To, err = listing.TimeRange(c); err != nil {
		return f, err
	}
	switch r := c.QueryParam("rating"); r {
	case "":
	case "none":
		f.Rating = new(int)
	default:
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > 5 {
			return f, protocol.Errorf(protocol.CodeBadRequest, "rating must be 1 to 5, or none")
		}
		f.Rating = &n
	}
	if f.EndBy != "" && !slices.Contains(endReasons, f.EndBy) {
		return f, protocol.Errorf(protocol.CodeBadRequest, "endby must be one of agent, supervisor, user, timeout, queue, system")
	}
	switch r := c.QueryParam("reviewed"); r {
	case "":
	case "yes", "true":
		f.Reviewed = new(bool)
		*f.Reviewed = true
	case "no", "false":
		f.Reviewed = new(bool)
	default:
		return f, protocol.Errorf(protocol.CodeBadRequest, "reviewed must be yes or no")
	}
	if utf8.RuneCountInString(f.Text) > maxQuery {
		return f, protocol.Errorf(protocol.CodeBadRequest, "q must be at most %d characters", maxQuery)
	}
	if f.Text != "" && len(fulltext.ParseQuery(f.Text).Terms) == 0 {
		return f, protocol.Errorf(protocol.CodeBadRequest, "q has no words to search for (letters, digits or CJK characters)")
	}
	f.Scope, err = listing.Scope(c.Request().Context(), a.Access, a.Store, me)
	return f, err
}

func (a *API) search(c echo.Context) error {
	f, err := a.filter(c)
	if err != nil {
		return err
	}
	q := store.ArchiveQuery{ArchiveFilter: f}
	var before *listing.Cursor
	if q.Limit, before, err = listing.Page(c); err != nil {
		return err
	}
	if before != nil {
		q.Before = &store.ArchiveCursor{EndTime: before.At, ID: before.ID}
	}
	ctx := c.Request().Context()
	page, err := a.Store.SearchArchive(ctx, q)
	if err != nil {
		return err
	}
	n, err := a.names(ctx, f.Orgi)
	if err != nil {
		return err
	}
	items, err := a.items(ctx, n, page.Sessions)
	if err != nil {
		return err
	}
	out := Page{Items: items}
	if page.Next != nil {
		out.Next = listing.Cursor{At: page.Next.EndTime, ID: page.Next.ID}.String()
	}
	return c.JSON(http.StatusOK, out)
}

// names are the tenant's agents' nicknames and groups' names, by id.
type names struct {
	agents, skills map[string]string
}

func (n names) of(id string) string {
	if v, ok := n.agents[id]; ok {
		return v
	}
	return n.skills[id]
}

func (a *API) names(ctx context.Context, orgi string) (names, error) {
	// Deleted agents too: the chats they served keep their names.
	agents, err := a.Store.AgentNicknames(ctx, orgi)
	if err != nil {
		return names{}, err
	}
	skills, err := a.Store.ListSkills(ctx, orgi)
	if err != nil {
		return names{}, err
	}
	n := names{agents: agents, skills: make(map[string]string, len(skills))}
	for _, g := range skills {
		n.skills[g.ID] = g.Name
	}
	return n, nil
}

// items are the sessions as a result list shows them.
func (a *API) items(ctx context.Context, n names, sessions []store.Session) ([]Item, error) {
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	tags, err := a.Store.TagsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	scores, err := a.Store.ReviewScores(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Item, len(sessions))
	for i, s := range sessions {
		out[i] = itemOf(n, s, tags[s.ID])
		if score, ok := scores[s.ID]; ok {
			out[i].Score = &score
		}
	}
	return out, nil
}

func itemOf(n names, s store.Session, tags []string) Item {
	it := Item{
		SessionSummary: s.Summary(), EndBy: s.EndBy, AgentName: n.agents[s.AgentNo], SkillName: n.skills[s.Skill],
		Rating: s.SatisLevel, RatingComment: s.SatisComment, Tags: tags, Messages: s.LastSeq,
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	if s.ServiceTime != nil {
		it.ServiceTime = protocol.Time(*s.ServiceTime)
	}
	if s.EndTime != nil {
		it.EndTime = protocol.Time(*s.EndTime)
	}
	return it
}

// Transcript is one conversation with everything that happened in it.
type Transcript struct {
	Session Item `json:"session"`
	// Messages are in seq order, at most store.MaxTranscript of them;
	// Truncated says there are more.
	Messages  []protocol.ChatMessage      `json:"messages"`
	Truncated bool                        `json:"truncated,omitempty"`
	Notes     []protocol.Note             `json:"notes"`  // whispers, oldest first
	Events    []protocol.SessionEventView `json:"events"` // oldest first
	Review    *quality.Review             `json:"review,omitempty"`
}

func (a *API) transcript(c echo.Context) error {
	me := request.Principal(c).Agent
	ctx := c.Request().Context()
	sess, err := a.Store.GetSession(ctx, c.Param("id"))
	if err != nil {
		return request.NotFound(err, "session")
	}
	if sess.Orgi != me.Orgi {
		return protocol.Errorf(protocol.CodeNotFound, "session not found")
	}
	ok, err := a.Access.MayRead(ctx, me, sess, a.Store)
	if err != nil {
		return err
	}
	if !ok {
		return protocol.Errorf(protocol.CodeForbidden, "not your conversation, nor in your supervision scope")
	}
	n, err := a.names(ctx, sess.Orgi)
	if err != nil {
		return err
	}
	items, err := a.items(ctx, n, []store.Session{sess})
	if err != nil {
		return err
	}
	out := Transcript{Session: items[0]}
	msgs, more, err := a.Store.TranscriptMessages(ctx, sess.ID, store.MaxTranscript)
	if err != nil {
		return err
	}
	out.Truncated = more
	out.Messages = make([]protocol.ChatMessage, len(msgs))
	for i, m := range msgs {
		out.Messages[i] = m.Chat()
	}
	notes, err := a.Store.ListNotes(ctx, sess.ID)
	if err != nil {
		return err
	}
	out.Notes = make([]protocol.Note, len(notes))
	for i, nt := range notes {
		out.Notes[i] = nt.View()
	}
	evs, err := a.Store.SessionEvents(ctx, sess.ID)
	if err != nil {
		return err
	}
	out.Events = make([]protocol.SessionEventView, len(evs))
	for i, e := range evs {
		out.Events[i] = protocol.SessionEventView{
			Kind: e.Kind, Actor: e.Actor, ActorName: n.of(e.Actor), Target: e.Target, TargetName: n.of(e.Target),
			Detail: e.Detail, CreateTime: protocol.Time(e.CreatedAt),
		}
	}
	switch r, err := a.Store.GetReview(ctx, sess.ID); {
	case err == nil:
		v, err := quality.ViewOf(r)
		if err != nil {
			return err
		}
		out.Review = &v
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return c.JSON(http.StatusOK, out)
}
