// Package quality is the REST API of quality review (UCKeFu's 质检): the
// tenant's checklist, kept by admins, and supervisors' scores of ended
// conversations against it, which the agents see.
//
// A review scores every item of the checklist 0 to 5; its score is
// 100 × Σ(weight × score) / (5 × Σ weight), to one decimal. It keeps the
// items as they were when scored, so editing the checklist later changes no
// old score.
package quality

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/archive/listing"
	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/access"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// Store is what the quality API reads and writes.
type Store interface {
	GetSession(ctx context.Context, id string) (store.Session, error)
	ServesVisitor(ctx context.Context, agentID, appid, userid string) (bool, error)
	TenantAgentSkills(ctx context.Context, orgi string) (map[string][]string, error)
	AgentNicknames(ctx context.Context, orgi string) (map[string]string, error)
	QualityItems(ctx context.Context, orgi string) ([]store.QualityItem, error)
	ReplaceQualityItems(ctx context.Context, orgi string, items []store.QualityItem) ([]store.QualityItem, error)
	SaveReview(ctx context.Context, r store.QualityReview, lines []store.ReviewLine) (store.QualityReview, error)
	GetReview(ctx context.Context, sessionID string) (store.QualityReview, error)
	ListReviews(ctx context.Context, q store.ReviewQuery) (store.ReviewPage, error)
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
	staff.GET("/quality/items", a.items)
	staff.PUT("/admin/quality/items", a.replaceItems, request.RequireRole(protocol.RoleAdmin))
	staff.GET("/quality/reviews", a.reviews)
	staff.GET("/sessions/:id/review", a.review)
	staff.PUT("/sessions/:id/review", a.saveReview)
}

// Item is one line of the checklist.
type Item struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Weight int    `json:"weight"`
}

// Limits of the checklist.
const (
	MaxItems      = 50
	MaxItemName   = 128
	MaxItemWeight = 100
	MaxComment    = 2000
)

func viewOfItems(items []store.QualityItem) []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		out[i] = Item{ID: it.ID, Name: it.Name, Weight: it.Weight}
	}
	return out
}

func (a *API) items(c echo.Context) error {
	items, err := a.Store.QualityItems(c.Request().Context(), request.Principal(c).Agent.Orgi)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewOfItems(items))
}

type itemsRequest struct {
	Items []Item `json:"items"`
}

func (r *itemsRequest) Validate() error {
	if len(r.Items) > MaxItems {
		return protocol.Errorf(protocol.CodeBadRequest, "at most %d items", MaxItems)
	}
	names := make(map[string]bool, len(r.Items))
	ids := make(map[string]bool, len(r.Items))
	for i := range r.Items {
		it := &r.Items[i]
		it.Name = strings.TrimSpace(it.Name)
		if n := utf8.RuneCountInString(it.Name); n == 0 || n > MaxItemName {
			return protocol.Errorf(protocol.CodeBadRequest, "item %d: name must be 1 to %d characters", i+1, MaxItemName)
		}
		if key := strings.ToLower(it.Name); names[key] {
			return protocol.Errorf(protocol.CodeBadRequest, "item %d: the name %q is there twice", i+1, it.Name)
		} else {
			names[key] = true
		}
		if it.Weight < 1 || it.Weight > MaxItemWeight {
			return protocol.Errorf(protocol.CodeBadRequest, "item %d: weight must be 1 to %d", i+1, MaxItemWeight)
		}
		if it.ID != "" {
			if len(it.ID) > 32 || ids[it.ID] {
				return protocol.Errorf(protocol.CodeBadRequest, "item %d: bad or repeated id", i+1)
			}
			ids[it.ID] = true
		}
	}
	return nil
}

func (a *API) replaceItems(c echo.Context) error {
	var in itemsRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	items := make([]store.QualityItem, len(in.Items))
	for i, it := range in.Items {
		items[i] = store.QualityItem{ID: it.ID, Name: it.Name, Weight: it.Weight}
	}
	saved, err := a.Store.ReplaceQualityItems(c.Request().Context(), request.Principal(c).Agent.Orgi, items)
	if errors.Is(err, store.ErrNotFound) {
		return protocol.Errorf(protocol.CodeBadRequest, "an item id is not one of the checklist's: leave it out for a new item")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewOfItems(saved))
}

// Review is a review as staff see it.
type Review struct {
	AgentServiceID string  `json:"agentserviceid"`
	AgentNo        string  `json:"agentno"` // the agent reviewed
	Reviewer       string  `json:"reviewer"`
	ReviewerName   string  `json:"reviewername"`
	Score          float64 `json:"score"`
	// Items are the lines scored, with the names and weights they had.
	Items      []store.ReviewLine `json:"items"`
	Comment    string             `json:"comment"`
	CreateTime protocol.Time      `json:"createtime"`
	UpdateTime protocol.Time      `json:"updatetime"`
}

// ViewOf is the review as staff see it.
func ViewOf(r store.QualityReview) (Review, error) {
	lines, err := r.Lines()
	if err != nil {
		return Review{}, err
	}
	return Review{
		AgentServiceID: r.SessionID, AgentNo: r.AgentNo, Reviewer: r.ReviewerID, ReviewerName: r.ReviewerName,
		Score: r.Score, Items: lines, Comment: r.Comment,
		CreateTime: protocol.Time(r.CreatedAt), UpdateTime: protocol.Time(r.UpdatedAt),
	}, nil
}

// Score is a review's total: 100 × Σ(weight × score) / (5 × Σ weight), to
// one decimal.
func Score(lines []store.ReviewLine) float64 {
	var sum, most int
	for _, l := range lines {
		sum += l.Weight * l.Score
		most += 5 * l.Weight
	}
	if most == 0 {
		return 0
	}
	return math.Round(1000*float64(sum)/float64(most)) / 10
}

// session is the conversation of the request's :id, of the caller's tenant.
func (a *API) session(c echo.Context) (store.Session, error) {
	sess, err := a.Store.GetSession(c.Request().Context(), c.Param("id"))
	if err != nil {
		return store.Session{}, request.NotFound(err, "session")
	}
	if sess.Orgi != request.Principal(c).Agent.Orgi {
		return store.Session{}, protocol.Errorf(protocol.CodeNotFound, "session not found")
	}
	return sess, nil
}

func (a *API) review(c echo.Context) error {
	sess, err := a.session(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ok, err := a.Access.MayRead(ctx, request.Principal(c).Agent, sess, a.Store)
	if err != nil {
		return err
	}
	if !ok {
		return protocol.Errorf(protocol.CodeForbidden, "not your conversation, nor in your supervision scope")
	}
	r, err := a.Store.GetReview(ctx, sess.ID)
	if err != nil {
		return request.NotFound(err, "review")
	}
	v, err := ViewOf(r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type scoreInput struct {
	Item  string `json:"item"`
	Score *int   `json:"score"`
}

type reviewRequest struct {
	Scores  []scoreInput `json:"scores"`
	Comment string       `json:"comment"`
}

func (r reviewRequest) Validate() error {
	if utf8.RuneCountInString(r.Comment) > MaxComment {
		return protocol.Errorf(protocol.CodeTooLarge, "comment is longer than %d characters", MaxComment)
	}
	for i, s := range r.Scores {
		if s.Score == nil || *s.Score < 0 || *s.Score > 5 {
			return protocol.Errorf(protocol.CodeBadRequest, "scores[%d]: score must be 0 to 5", i)
		}
	}
	return nil
}

func (a *API) saveReview(c echo.Context) error {
	sess, err := a.session(c)
	if err != nil {
		return err
	}
	me := request.Principal(c).Agent
	ctx := c.Request().Context()
	ok, err := a.Access.Can(ctx, me, access.Write, sess)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return protocol.Errorf(protocol.CodeForbidden, "reviewing needs the write right on this conversation")
	case sess.AgentNo == me.ID:
		return protocol.Errorf(protocol.CodeForbidden, "nobody reviews their own conversation")
	case sess.Status != protocol.SessionEnd:
		return protocol.Errorf(protocol.CodeConflict, "the conversation has not ended")
	case sess.AgentNo == "":
		return protocol.Errorf(protocol.CodeConflict, "no agent served this conversation")
	}
	var in reviewRequest
	if err := request.Bind(c, &in); err != nil {
		return err
	}
	items, err := a.Store.QualityItems(ctx, me.Orgi)
	if err != nil {
		return err
	}
	lines, err := scoreLines(items, in.Scores)
	if err != nil {
		return err
	}
	saved, err := a.Store.SaveReview(ctx, store.QualityReview{
		SessionID: sess.ID, Orgi: sess.Orgi, AgentNo: sess.AgentNo, ReviewerID: me.ID, ReviewerName: me.Nickname,
		Score: Score(lines), Comment: in.Comment,
	}, lines)
	if err != nil {
		return err
	}
	v, err := ViewOf(saved)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// scoreLines matches the scores given to the checklist: each of its items
// scored once, nothing else.
func scoreLines(items []store.QualityItem, scores []scoreInput) ([]store.ReviewLine, error) {
	if len(items) == 0 {
		return nil, protocol.Errorf(protocol.CodeConflict, "the checklist is empty: an admin sets it up first")
	}
	given := make(map[string]int, len(scores))
	for _, s := range scores {
		if _, twice := given[s.Item]; twice {
			return nil, protocol.Errorf(protocol.CodeBadRequest, "item %q is scored twice", s.Item)
		}
		given[s.Item] = *s.Score
	}
	lines := make([]store.ReviewLine, len(items))
	for i, it := range items {
		score, ok := given[it.ID]
		if !ok {
			return nil, protocol.Errorf(protocol.CodeBadRequest, "item %q is not scored", it.Name)
		}
		delete(given, it.ID)
		lines[i] = store.ReviewLine{Item: it.ID, Name: it.Name, Weight: it.Weight, Score: score}
	}
	if len(given) > 0 {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "item %q is not on the checklist (any more)", slices.Sorted(maps.Keys(given))[0])
	}
	return lines, nil
}

// Listed is a review in a list, with the conversation it scores.
type Listed struct {
	Review
	AgentName string                  `json:"agentname"`
	Session   protocol.SessionSummary `json:"session"`
	EndTime   protocol.Time           `json:"endtime"`
}

// List is a page of reviews; Next (when set) is the before of the next one.
type List struct {
	Items []Listed `json:"items"`
	Next  string   `json:"next"`
}

func (a *API) reviews(c echo.Context) error {
	me := request.Principal(c).Agent
	ctx := c.Request().Context()
	q := store.ReviewQuery{Orgi: me.Orgi, AgentNo: c.QueryParam("agent")}
	var err error
	if q.From, q.To, err = listing.TimeRange(c); err != nil {
		return err
	}
	var before *listing.Cursor
	if q.Limit, before, err = listing.Page(c); err != nil {
		return err
	}
	if before != nil {
		q.Before = &store.ReviewCursor{At: before.At, SessionID: before.ID}
	}
	if q.Scope, err = listing.Scope(ctx, a.Access, a.Store, me); err != nil {
		return err
	}
	page, err := a.Store.ListReviews(ctx, q)
	if err != nil {
		return err
	}
	names, err := a.Store.AgentNicknames(ctx, me.Orgi) // deleted agents' too
	if err != nil {
		return err
	}
	out := List{Items: make([]Listed, 0, len(page.Reviews))}
	for _, r := range page.Reviews {
		v, err := ViewOf(r.Review)
		if err != nil {
			return err
		}
		l := Listed{Review: v, AgentName: names[r.Review.AgentNo], Session: r.Session.Summary()}
		if r.Session.EndTime != nil {
			l.EndTime = protocol.Time(*r.Session.EndTime)
		}
		out.Items = append(out.Items, l)
	}
	if page.Next != nil {
		out.Next = listing.Cursor{At: page.Next.At, ID: page.Next.SessionID}.String()
	}
	return c.JSON(http.StatusOK, out)
}
