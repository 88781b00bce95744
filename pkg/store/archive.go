package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-im/kefu/pkg/fulltext"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// The archive is every ended conversation, searched by its columns (time,
// site, group, agent, visitor, rating, end reason, tags, review) and by the
// words of its messages. The words live in our own inverted index,
// archive_terms: one row per (tenant, term hash, conversation), written once
// a conversation has ended (services/archive), the same on MySQL and SQLite.
//
// A text search joins one copy of archive_terms per query term (at most
// maxQueryTerms), each an equality on the primary key, so the database can
// start from the rarest posting list or walk the tenant's conversations by
// end time, whichever it estimates cheaper. A query that is more than one
// bare term (a phrase, a CJK run of three or more characters, anything with
// punctuation) is then confirmed: the candidates, newest first and at most
// maxExamined of them per page, are kept only if one of their messages
// contains the phrase (LIKE with an escape character, case-insensitive as
// the backend compares). The visitor's names and contacts are searched as
// columns, by substring: whole words would not find a phone number by its
// last digits.

// ArchiveRef names an ended conversation the indexer has still to index.
type ArchiveRef struct {
	ID   string
	Orgi string
}

// UnarchivedSessions lists up to limit ended conversations not yet in the
// index, those that ended first first.
func (s *Store) UnarchivedSessions(ctx context.Context, limit int) ([]ArchiveRef, error) {
	var out []ArchiveRef
	err := s.db.WithContext(ctx).Model(&Session{}).Select("id, orgi").
		Where("archived = ? AND end_time IS NOT NULL", false).Order("end_time, id").Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unarchived sessions: %w", err)
	}
	return out, nil
}

// IndexSessions puts the conversations' words into the index — the texts
// of what visitors and staff wrote, and the names of the files they sent —
// and marks them archived, in one transaction. Indexing a conversation
// again writes the same rows.
func (s *Store) IndexSessions(ctx context.Context, refs []ArchiveRef) error {
	if len(refs) == 0 {
		return nil
	}
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	texts, err := s.archiveTexts(ctx, ids)
	if err != nil {
		return err
	}
	var rows []ArchiveTerm
	for _, r := range refs {
		for _, term := range fulltext.Hashes(texts[r.ID]) {
			rows = append(rows, ArchiveTerm{Orgi: r.Orgi, Term: term, SessionID: r.ID})
		}
	}
	// In key order: fewer page splits, and no deadlock between two indexers
	// (a new leader overlapping the old one) writing the same rows.
	slices.SortFunc(rows, func(a, b ArchiveTerm) int {
		return cmp.Or(cmp.Compare(a.Orgi, b.Orgi), cmp.Compare(a.Term, b.Term), cmp.Compare(a.SessionID, b.SessionID))
	})
	err = s.retryTx(ctx, func(tx *gorm.DB) error {
		for chunk := range slices.Chunk(rows, termChunk) {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&chunk).Error; err != nil {
				return err
			}
		}
		return tx.Model(&Session{}).Where("id IN ?", ids).Update("archived", true).Error
	})
	if err != nil {
		return fmt.Errorf("store: index %d sessions: %w", len(refs), err)
	}
	return nil
}

// indexedMessages are the messages whose words the archive finds: what
// visitors and staff wrote. System notices are the tenant's prompts, the
// same in every chat.
func indexedMessages(db *gorm.DB, alias string) *gorm.DB {
	return db.Where(alias+"type = ? AND "+alias+"calltype <> ?", protocol.TypeMessage, protocol.CallTypeSystem)
}

// archiveTexts returns each conversation's texts to index: text messages'
// bodies and files' names.
func (s *Store) archiveTexts(ctx context.Context, sessionIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(sessionIDs))
	var rows []struct {
		SessionID string `gorm:"column:agentserviceid"`
		MsgType   string `gorm:"column:msgtype"`
		Body      string `gorm:"column:message"`
		Filename  string
	}
	err := indexedMessages(s.db.WithContext(ctx).Model(&Message{}), "").
		Select("agentserviceid, msgtype, message, filename").Where("agentserviceid IN ?", sessionIDs).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: archive texts: %w", err)
	}
	for _, r := range rows {
		text := r.Body
		if r.MsgType != protocol.MsgTypeText {
			text = r.Filename
		}
		out[r.SessionID] = append(out[r.SessionID], text)
	}
	return out, nil
}

// termChunk bounds the rows of one INSERT (3 placeholders each).
const termChunk = 1000

// ChatScope is the part of a tenant's conversations a staff member may list
// (gateway/api/archive/scope computes it from the supervision grant).
type ChatScope struct {
	// Tenant: all of them (admins). Otherwise the chats of AgentNo (one's
	// own), and those of the groups and agents below.
	Tenant  bool
	AgentNo string
	// Skills are the skill groups in scope, Agents the agents who belong to
	// one of them; Unrouted covers chats with neither group nor agent.
	Skills   []string
	Agents   []string
	Unrouted bool
}

// where is the scope as a condition on the sessions aliased s.
func (sc ChatScope) where(db *gorm.DB) *gorm.DB {
	if sc.Tenant {
		return db
	}
	if sc.AgentNo == "" {
		return db.Where("1 = 0") // nobody's own chats: an empty scope, not the unassigned ones
	}
	conds := []string{"s.agentno = ?"}
	args := []any{sc.AgentNo}
	if len(sc.Skills) > 0 {
		conds = append(conds, "s.skill IN ?")
		args = append(args, sc.Skills)
	}
	if len(sc.Agents) > 0 {
		conds = append(conds, "s.agentno IN ?")
		args = append(args, sc.Agents)
	}
	if sc.Unrouted {
		conds = append(conds, "(s.skill = '' AND s.agentno = '')")
	}
	return db.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// ArchiveFilter selects ended conversations. Zero fields do not filter.
type ArchiveFilter struct {
	Orgi  string
	Scope ChatScope
	// From and To bound the end time: From <= end < To.
	From, To time.Time
	AppID    string
	Skill    string
	AgentNo  string
	// Visitor is the visitor's userid exactly, or part of their nickname,
	// pre-chat name, email or phone.
	Visitor string
	Tag     string
	// Rating is the visitor's level 1..5, or 0 for not rated.
	Rating   *int
	EndBy    string
	Reviewed *bool
	// Text is a full-text query over the messages (see fulltext).
	Text string
}

// ArchiveCursor is where a page of the archive ended: the next page holds
// what ended before it (ties by id).
type ArchiveCursor struct {
	EndTime time.Time
	ID      string
}

// ArchiveQuery is a filter and a page of it.
type ArchiveQuery struct {
	ArchiveFilter
	Before *ArchiveCursor
	// Limit is the page size, at most MaxArchivePage; 0: 50. Lists show
	// pages of up to 200; exports read bigger ones.
	Limit int
}

// ArchivePage is a page of the archive, the latest ending first. Next is
// set when there may be more.
type ArchivePage struct {
	Sessions []Session
	Next     *ArchiveCursor
}

const (
	// MaxArchivePage bounds one page of SearchArchive. One big page costs
	// less than many small ones: a page after a cursor may read through the
	// newer conversations before it, when the database finds no better plan
	// (MariaDB, filters no index covers).
	MaxArchivePage = 2500
	// maxQueryTerms bounds the index joins of one search: more terms hardly
	// narrow the candidates further, and confirmation checks the rest.
	maxQueryTerms = 6
	// confirmBatch is how many candidates one confirming query checks.
	confirmBatch = 100
	// maxExamined bounds the candidates one page confirms; a page that hit
	// it may be short, and its Next goes on from there.
	maxExamined = 2000
)

// ErrNoTerms is returned (wrapped) for a text query with nothing to search
// for (only punctuation or symbols).
var ErrNoTerms = errors.New("the search text has no words")

// SearchArchive returns a page of the ended conversations q selects.
func (s *Store) SearchArchive(ctx context.Context, q ArchiveQuery) (ArchivePage, error) {
	if q.Orgi == "" {
		return ArchivePage{}, errors.New("store: search archive: orgi is required")
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = defaultLimit
	case limit > MaxArchivePage:
		limit = MaxArchivePage
	}
	var text fulltext.Query
	if q.Text != "" {
		if text = fulltext.ParseQuery(q.Text); len(text.Terms) == 0 {
			return ArchivePage{}, fmt.Errorf("store: search archive: %w", ErrNoTerms)
		}
	}
	confirm := q.Text != "" && !text.Exact
	batch := limit + 1
	if confirm {
		batch = max(limit, confirmBatch)
	}
	var (
		page     ArchivePage
		cursor   = q.Before
		examined int
	)
	for {
		cands, err := s.archiveCandidates(ctx, q.ArchiveFilter, text.Terms, cursor, batch)
		if err != nil {
			return ArchivePage{}, err
		}
		if !confirm {
			if len(cands) > limit {
				cands = cands[:limit]
				page.Next = cursorOf(cands[limit-1])
			}
			page.Sessions = cands
			return page, nil
		}
		ok, err := s.containing(ctx, cands, text.Phrase)
		if err != nil {
			return ArchivePage{}, err
		}
		for _, c := range cands {
			if !ok[c.ID] {
				continue
			}
			page.Sessions = append(page.Sessions, c)
			if len(page.Sessions) == limit {
				page.Next = cursorOf(c)
				return page, nil
			}
		}
		if len(cands) < batch {
			return page, nil
		}
		cursor = cursorOf(cands[len(cands)-1])
		if examined += len(cands); examined >= maxExamined {
			page.Next = cursor
			return page, nil
		}
	}
}

func cursorOf(s Session) *ArchiveCursor {
	return &ArchiveCursor{EndTime: *s.EndTime, ID: s.ID}
}

// archiveCandidates is one page of the conversations f selects whose terms
// include terms, before cursor, newest first.
func (s *Store) archiveCandidates(ctx context.Context, f ArchiveFilter, terms []string, cursor *ArchiveCursor, limit int) ([]Session, error) {
	db := s.db.WithContext(ctx).Table("sessions AS s").Select("s.*")
	for i, term := range queryTerms(terms) {
		t := fmt.Sprintf("t%d", i)
		db = db.Joins(fmt.Sprintf("JOIN archive_terms %[1]s ON %[1]s.orgi = s.orgi AND %[1]s.term = ? AND %[1]s.agentserviceid = s.id", t), fulltext.Hash(term))
	}
	db = f.Scope.where(archiveFilter(db, f))
	if cursor != nil {
		// The first half alone is a range the end-time indexes can seek to:
		// without it, every page would read past all the pages before it.
		end := utc(cursor.EndTime)
		db = db.Where("s.end_time <= ? AND (s.end_time < ? OR s.id < ?)", end, end, cursor.ID)
	}
	out := []Session{}
	if err := db.Order("s.end_time DESC, s.id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: search archive: %w", err)
	}
	return out, nil
}

// queryTerms picks the terms a search joins: the longest first, as longer
// words tend to be rarer.
func queryTerms(terms []string) []string {
	if len(terms) <= maxQueryTerms {
		return terms
	}
	picked := slices.Clone(terms)
	slices.SortStableFunc(picked, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return picked[:maxQueryTerms]
}

// archiveFilter adds f's column conditions to a query on sessions aliased s.
func archiveFilter(db *gorm.DB, f ArchiveFilter) *gorm.DB {
	db = db.Where("s.orgi = ? AND s.end_time IS NOT NULL", f.Orgi)
	if !f.From.IsZero() {
		db = db.Where("s.end_time >= ?", utc(f.From))
	}
	if !f.To.IsZero() {
		db = db.Where("s.end_time < ?", utc(f.To))
	}
	for _, c := range []struct{ col, v string }{{"s.appid", f.AppID}, {"s.skill", f.Skill}, {"s.agentno", f.AgentNo}, {"s.end_by", f.EndBy}} {
		if c.v != "" {
			db = db.Where(c.col+" = ?", c.v)
		}
	}
	if f.Visitor != "" {
		like := containsPattern(f.Visitor)
		db = db.Where("(s.userid = ? OR s.nickname LIKE ? ESCAPE '!' OR s.name LIKE ? ESCAPE '!' OR s.email LIKE ? ESCAPE '!' OR s.phone LIKE ? ESCAPE '!')",
			f.Visitor, like, like, like, like)
	}
	if f.Tag != "" {
		db = db.Where("EXISTS (SELECT 1 FROM session_tags st WHERE st.agentserviceid = s.id AND st.tag_id = ?)", f.Tag)
	}
	if f.Rating != nil {
		db = db.Where("s.satis_level = ?", *f.Rating)
	}
	if f.Reviewed != nil {
		not := ""
		if !*f.Reviewed {
			not = "NOT "
		}
		db = db.Where(not + "EXISTS (SELECT 1 FROM quality_reviews qr WHERE qr.agentserviceid = s.id)")
	}
	return db
}

// containsPattern is a LIKE pattern (escape character !) matching text
// anywhere: %, _ and ! in text match only themselves.
func containsPattern(text string) string {
	return "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(text) + "%"
}

// containing reports which of the conversations have a message containing
// phrase: as typed, or in the index's normal form (a query in full-width
// letters finds half-width text).
func (s *Store) containing(ctx context.Context, sessions []Session, phrase string) (map[string]bool, error) {
	ok := make(map[string]bool, len(sessions))
	if len(sessions) == 0 {
		return ok, nil
	}
	ids := make([]string, len(sessions))
	for i, c := range sessions {
		ids[i] = c.ID
	}
	var conds []string
	var args []any
	for _, p := range slices.Compact([]string{phrase, fulltext.Normalize(phrase)}) {
		like := containsPattern(p)
		conds = append(conds, "m.message LIKE ? ESCAPE '!'", "m.filename LIKE ? ESCAPE '!'")
		args = append(args, like, like)
	}
	var found []string
	err := indexedMessages(s.db.WithContext(ctx).Table("messages AS m"), "m.").
		Where("m.agentserviceid IN ?", ids).Where("("+strings.Join(conds, " OR ")+")", args...).
		Distinct().Pluck("m.agentserviceid", &found).Error
	if err != nil {
		return nil, fmt.Errorf("store: search archive: confirm: %w", err)
	}
	for _, id := range found {
		ok[id] = true
	}
	return ok, nil
}

// MaxTranscript bounds the messages of one transcript.
const MaxTranscript = 5000

// TranscriptMessages returns a conversation's first max messages in seq
// order, and whether it has more.
func (s *Store) TranscriptMessages(ctx context.Context, sessionID string, max int) ([]Message, bool, error) {
	out := []Message{}
	if err := s.db.WithContext(ctx).Where("agentserviceid = ?", sessionID).Order("seq").Limit(max + 1).Find(&out).Error; err != nil {
		return nil, false, fmt.Errorf("store: transcript of %s: %w", sessionID, err)
	}
	if len(out) > max {
		return out[:max], true, nil
	}
	return out, false, nil
}

// TagsOf returns the listed conversations' tag ids, by conversation.
func (s *Store) TagsOf(ctx context.Context, sessionIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(sessionIDs))
	if len(sessionIDs) == 0 {
		return out, nil
	}
	var rows []SessionTag
	if err := s.db.WithContext(ctx).Where("agentserviceid IN ?", sessionIDs).Order("agentserviceid, tag_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: tags of sessions: %w", err)
	}
	for _, r := range rows {
		out[r.SessionID] = append(out[r.SessionID], r.TagID)
	}
	return out, nil
}
