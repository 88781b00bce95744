package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"gorm.io/gorm"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// serverClientIDPrefix marks clientids the store generates for messages
// that have none (system notes), so the (session, clientid) unique index
// holds for every row.
const serverClientIDPrefix = "srv-"

// AppendMessage stores m as the next message of its session (m.SessionID)
// and returns the stored row: ID, Seq, CreatedAt and PK assigned, Orgi,
// AppID and USession copied from the session so a message can never be
// filed under another tenant or visitor. m itself is not modified.
//
// Seqs are 1, 2, 3, ... per session with no gaps or repeats, however many
// processes append at once. A message whose ClientID the session already
// has is a resend: nothing is stored and the first copy is returned with
// duplicate=true. An empty ClientID gets a generated one. A missing session
// yields ErrNotFound.
func (s *Store) AppendMessage(ctx context.Context, m *Message) (stored Message, duplicate bool, err error) {
	if m.SessionID == "" {
		return Message{}, false, errors.New("store: append message: session id is required")
	}
	msg := *m
	if msg.ClientID == "" {
		msg.ClientID = serverClientIDPrefix + NewID()
	}
	db := s.db.WithContext(ctx)
	// One read, outside the transaction, answers resends (common after
	// reconnects) without taking the session's row lock, and fetches the
	// session's tenant and visitor, which never change.
	sess, prevPK, err := sessionAndClientID(db, msg.SessionID, msg.ClientID)
	if err != nil {
		return Message{}, false, fmt.Errorf("store: append message to %s: %w", msg.SessionID, err)
	}
	if prevPK != 0 {
		prev, found, err := messageByClientID(db, msg.SessionID, msg.ClientID)
		if err != nil {
			return Message{}, false, fmt.Errorf("store: append message to %s: %w", msg.SessionID, err)
		}
		if found {
			return prev, true, nil
		}
	}

	msg.Orgi, msg.AppID, msg.USession = sess.Orgi, sess.AppID, sess.UserID
	stored, err = s.appender.append(ctx, msg, s.insertMessages)
	if err == nil {
		return stored, false, nil
	}
	if isDuplicate(err) {
		// A concurrent resend of the same clientid committed first; our
		// transaction rolled back, seq increment included, so no gap.
		prev, found, lerr := messageByClientID(db, msg.SessionID, msg.ClientID)
		if lerr == nil && found {
			return prev, true, nil
		}
	}
	return Message{}, false, fmt.Errorf("store: append message to %s: %w", msg.SessionID, err)
}

// sessionAndClientID reads the session's tenant, site and visitor, and the
// pk of its message with clientID (0 if none), in one round trip.
func sessionAndClientID(db *gorm.DB, sessionID, clientID string) (Session, int64, error) {
	var sess Session
	var pk sql.NullInt64
	err := db.Raw("SELECT s.orgi, s.appid, s.userid, m.pk FROM sessions s"+
		" LEFT JOIN messages m ON m.agentserviceid = s.id AND m.clientid = ? WHERE s.id = ?", clientID, sessionID).
		Row().Scan(&sess.Orgi, &sess.AppID, &sess.UserID, &pk)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, 0, ErrNotFound
	}
	return sess, pk.Int64, err
}

// insertMessages stores msgs (whose session columns are filled) in one
// transaction and returns the rows as stored, in the same order: for each
// session, in sorted order so that concurrent batches cannot deadlock, one
// statement takes as many seqs as it has messages here; then one INSERT
// writes every row.
func (s *Store) insertMessages(ctx context.Context, msgs []Message) ([]Message, error) {
	type sessionSeqs struct {
		n       int64
		in, out bool
		next    int64 // the seq of its next message in msgs
	}
	bySession := make(map[string]*sessionSeqs)
	for _, m := range msgs {
		ss := bySession[m.SessionID]
		if ss == nil {
			ss = &sessionSeqs{}
			bySession[m.SessionID] = ss
		}
		ss.n++
		ss.in = ss.in || m.CallType == protocol.CallTypeIn
		ss.out = ss.out || m.CallType == protocol.CallTypeOut
	}
	ids := slices.Sorted(maps.Keys(bySession))
	var rows []Message
	err := s.retryTx(ctx, func(tx *gorm.DB) error {
		for _, id := range ids {
			ss := bySession[id]
			last, err := s.takeSeqs(tx, id, ss.n, ss.in, ss.out)
			if err != nil {
				return err
			}
			ss.next = last - ss.n + 1
		}
		now := s.now()
		rows = make([]Message, len(msgs))
		for i, m := range msgs {
			ss := bySession[m.SessionID]
			m.PK, m.ID, m.Seq, m.CreatedAt = 0, NewID(), ss.next, now
			ss.next++
			rows[i] = m
		}
		return tx.Create(&rows).Error
	})
	return rows, err
}

// takeSeqs adds n to the session's last_seq, stamps its activity columns
// (in: a visitor's message, out: an agent's) and returns the new last_seq,
// in one statement. The increment takes the session row's write lock
// (SQLite: the database write lock) until the transaction ends, so
// concurrent senders queue here and each sees the previous one's committed
// seq.
func (s *Store) takeSeqs(tx *gorm.DB, sessionID string, n int64, in, out bool) (int64, error) {
	now := s.now()
	set, args := "updated_at = ?", []any{now}
	// The timers measure from each side's last message.
	if in {
		set += ", last_visitor_at = ?, idle_warned = false"
		args = append(args, now)
	}
	if out {
		set += ", last_agent_at = ?, agent_reminded = false"
		args = append(args, now)
	}
	args = append(args, sessionID)
	if !s.mysql {
		var seq []int64
		if err := tx.Raw("UPDATE sessions SET last_seq = last_seq + ?, "+set+" WHERE id = ? RETURNING last_seq",
			append([]any{n}, args...)...).Scan(&seq).Error; err != nil {
			return 0, err
		}
		if len(seq) == 0 {
			return 0, ErrNotFound
		}
		return seq[0], nil
	}
	// LAST_INSERT_ID(expr) hands the new value back in the statement's OK
	// packet, so no SELECT is needed (MySQL and MariaDB alike).
	res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context,
		"UPDATE sessions SET last_seq = LAST_INSERT_ID(last_seq + ?), "+set+" WHERE id = ?", append([]any{n}, args...)...)
	if err != nil {
		return 0, err
	}
	if affected, err := res.RowsAffected(); err != nil || affected == 0 {
		return 0, cmp.Or(err, ErrNotFound)
	}
	return res.LastInsertId()
}

func messageByClientID(db *gorm.DB, sessionID, clientID string) (Message, bool, error) {
	var m Message
	err := db.Where("agentserviceid = ? AND clientid = ?", sessionID, clientID).Take(&m).Error
	switch {
	case err == nil:
		return m, true, nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return Message{}, false, nil
	}
	return Message{}, false, err
}

// Latest, as ListMessages' afterSeq, asks for the newest messages rather
// than those after a seq.
const Latest int64 = -1

// ListMessages pages through a session's messages, always returned in seq
// order. afterSeq >= 0: the first limit messages after it (catch-up and
// replay; 0 reads from the start). afterSeq == Latest: the last limit
// messages, before beforeSeq when it is > 0 (scrolling back). With both, the
// range between them from afterSeq on. limit is clamped to [1, 200]; 0
// means 50.
func (s *Store) ListMessages(ctx context.Context, sessionID string, afterSeq, beforeSeq int64, limit int) ([]Message, error) {
	limit = clampLimit(limit)
	q := s.db.WithContext(ctx).Where("agentserviceid = ?", sessionID)
	if beforeSeq > 0 {
		q = q.Where("seq < ?", beforeSeq)
	}
	out := []Message{}
	if afterSeq >= 0 {
		if err := q.Where("seq > ?", afterSeq).Order("seq").Limit(limit).Find(&out).Error; err != nil {
			return nil, fmt.Errorf("store: list messages of %s: %w", sessionID, err)
		}
		return out, nil
	}
	if err := q.Order("seq DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list messages of %s: %w", sessionID, err)
	}
	slices.Reverse(out)
	return out, nil
}

// ListVisitorMessages returns a visitor's history across all their sessions
// on one site: the newest limit messages, or the newest limit before the
// message beforeID when given, oldest first. beforeID must be one of this
// visitor's messages (ErrNotFound otherwise), so the cursor reveals nothing
// about other visitors. limit is clamped as in ListMessages.
func (s *Store) ListVisitorMessages(ctx context.Context, appid, userid, beforeID string, limit int) ([]Message, error) {
	limit = clampLimit(limit)
	db := s.db.WithContext(ctx)
	q := db.Where("appid = ? AND usession = ?", appid, userid)
	if beforeID != "" {
		var cursor Message
		err := db.Select("pk").Where("id = ? AND appid = ? AND usession = ?", beforeID, appid, userid).Take(&cursor).Error
		if err != nil {
			return nil, notFound(err, "visitor messages before %s", beforeID)
		}
		q = q.Where("pk < ?", cursor.PK)
	}
	out := []Message{}
	if err := q.Order("pk DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list messages of visitor %s/%s: %w", appid, userid, err)
	}
	slices.Reverse(out)
	return out, nil
}

// GetMessage returns the message with the given id.
func (s *Store) GetMessage(ctx context.Context, id string) (Message, error) {
	var m Message
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return Message{}, notFound(err, "get message %s", id)
	}
	return m, nil
}
