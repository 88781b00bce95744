package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

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
	db := s.db.WithContext(ctx)
	if msg.ClientID == "" {
		msg.ClientID = serverClientIDPrefix + NewID()
	} else {
		// Resends are common (reconnects, retries): answering them without
		// taking the session's row lock keeps them off the writers' path.
		prev, found, err := messageByClientID(db, msg.SessionID, msg.ClientID)
		if err != nil {
			return Message{}, false, fmt.Errorf("store: append message to %s: %w", msg.SessionID, err)
		}
		if found {
			return prev, true, nil
		}
	}

	err = s.retryTx(ctx, func(tx *gorm.DB) error {
		// The increment takes the session row's write lock (SQLite: the
		// database write lock), so concurrent senders queue here and each
		// sees the previous one's committed seq.
		now := s.now()
		res := tx.Exec("UPDATE sessions SET last_seq = last_seq + 1, updated_at = @now"+sideColumns(msg.CallType)+" WHERE id = @id",
			map[string]any{"now": now, "id": msg.SessionID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		// A locking read returns the current row, never the transaction's
		// REPEATABLE READ snapshot. gorm's SQLite dialect drops FOR UPDATE;
		// SQLite needs none since the transaction holds the write lock.
		var sess Session
		if err := tx.Select("last_seq", "orgi", "appid", "userid").Where("id = ?", msg.SessionID).
			Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Take(&sess).Error; err != nil {
			return err
		}
		stored = msg
		stored.PK = 0
		stored.ID = NewID()
		stored.Seq = sess.LastSeq
		stored.Orgi, stored.AppID, stored.USession = sess.Orgi, sess.AppID, sess.UserID
		stored.CreatedAt = s.now()
		return tx.Create(&stored).Error
	})
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

// sideColumns are the extra assignments a message makes to its session:
// the timers measure from each side's last message.
func sideColumns(callType string) string {
	switch callType {
	case protocol.CallTypeIn:
		return ", last_visitor_at = @now, idle_warned = false"
	case protocol.CallTypeOut:
		return ", last_agent_at = @now, agent_reminded = false"
	}
	return ""
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
