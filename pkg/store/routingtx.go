package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/kefu-im/kefu/pkg/protocol"
)

// ErrFenced reports that a routing leader with a newer fencing token has
// written: the caller lost its lease (perhaps while paused) and must stop.
var ErrFenced = errors.New("store: fenced off by a newer routing leader")

// routingFence names the one fence row: one leader for all tenants.
const routingFence = "routing"

// RoutingTx is the routing leader's unit of work: every routing write goes
// through one, and a batch of commands commits once. It is only valid inside
// the function given to Store.Routing.
type RoutingTx struct {
	s  *Store
	tx *gorm.DB
}

// Routing runs fn in one transaction. With token > 0 it first checks and
// advances the fence: if a newer token has written, nothing is done and
// ErrFenced is returned. The fence row stays locked until commit, so an old
// leader waking up mid-way waits for the new one and is then refused.
// token 0 (single binary, no lease) skips the fence.
func (s *Store) Routing(ctx context.Context, token int64, fn func(*RoutingTx) error) error {
	// READ COMMITTED on MySQL: no gap locks, so the batch's updates of the
	// queue never block (or deadlock with) gateways inserting new sessions,
	// and every read after the fence sees the latest committed rows.
	var opts []*sql.TxOptions
	if s.mysql {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if token > 0 {
			if err := s.fence(tx, token); err != nil {
				return err
			}
		}
		return fn(&RoutingTx{s: s, tx: tx})
	}, opts...)
}

func (s *Store) fence(tx *gorm.DB, token int64) error {
	res := tx.Exec("UPDATE routing_fences SET token = ?, updated_at = ? WHERE name = ? AND token <= ?", token, s.now(), routingFence, token)
	if res.Error != nil {
		return fmt.Errorf("store: fence: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	// Nothing changed: no row yet, a newer token, or (MySQL counts changed
	// rows only) the same token and timestamp.
	var f RoutingFence
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("name = ?", routingFence).Take(&f).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		if err := tx.Create(&RoutingFence{Name: routingFence, Token: token, UpdatedAt: s.now()}).Error; err != nil {
			return fmt.Errorf("store: fence: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("store: fence: %w", err)
	case f.Token > token:
		return fmt.Errorf("%w (token %d, newest %d)", ErrFenced, token, f.Token)
	}
	return nil
}

// Store reads through the transaction: after the fence, so it sees every
// write of an earlier leader.
func (t *RoutingTx) Store() *Store {
	return &Store{db: t.tx, log: t.s.log, mysql: t.s.mysql, clock: t.s.clock}
}

// Sessions returns the sessions with the given ids that exist, by id.
func (t *RoutingTx) Sessions(ids []string) (map[string]Session, error) {
	out := make(map[string]Session, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Session
	if err := t.tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: sessions: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// Assignment gives session SessionID to agent AgentNo.
type Assignment struct{ SessionID, AgentNo string }

// AssignSessions hands queued sessions to agents in two statements and
// reports which it assigned: a session no longer queued (the visitor left
// meanwhile) is left alone, so assigning twice is impossible.
func (t *RoutingTx) AssignSessions(as []Assignment, at time.Time) (map[string]bool, error) {
	done := make(map[string]bool, len(as))
	if len(as) == 0 {
		return done, nil
	}
	ids := make([]string, len(as))
	for i, a := range as {
		if a.AgentNo == "" {
			return nil, errors.New("store: assign sessions: agentNo is required")
		}
		ids[i] = a.SessionID
	}
	var queued []string
	if err := t.tx.Model(&Session{}).Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("id IN ? AND status = ?", ids, protocol.SessionInQueue).Pluck("id", &queued).Error; err != nil {
		return nil, fmt.Errorf("store: assign sessions: %w", err)
	}
	if len(queued) == 0 {
		return done, nil
	}
	for _, id := range queued {
		done[id] = true
	}
	// One UPDATE for the batch: agentno per row through CASE.
	caseSQL, args := "CASE id", []any{}
	for _, a := range as {
		if done[a.SessionID] {
			caseSQL += " WHEN ? THEN ?"
			args = append(args, a.SessionID, a.AgentNo)
		}
	}
	caseSQL += " END"
	err := t.tx.Model(&Session{}).Where("id IN ? AND status = ?", queued, protocol.SessionInQueue).Updates(map[string]any{
		"status":       protocol.SessionInService,
		"agentno":      gorm.Expr(caseSQL, args...),
		"service_time": utc(at),
		"updated_at":   t.s.now(),
	}).Error
	if err != nil {
		return nil, fmt.Errorf("store: assign sessions: %w", err)
	}
	return done, nil
}

// SaveAgentStates inserts or replaces agents' states in one statement.
// A zero LastAssigned ("never") is stored as NULL: MySQL in its default
// strict mode rejects the zero date the driver would send for it.
func (t *RoutingTx) SaveAgentStates(sts []AgentState) error {
	if len(sts) == 0 {
		return nil
	}
	rows := make([]map[string]any, len(sts))
	for i, st := range sts {
		if st.AgentID == "" || st.Orgi == "" {
			return errors.New("store: save agent state: agent id and orgi are required")
		}
		var last any
		if !st.LastAssigned.IsZero() {
			last = utc(st.LastAssigned)
		}
		rows[i] = map[string]any{
			"agent_id": st.AgentID, "orgi": st.Orgi, "status": st.Status, "busy": st.Busy,
			"last_assigned": last, "status_since": utcPtr(st.StatusSince), "updated_at": t.s.now(),
		}
	}
	err := t.tx.Model(&AgentState{}).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "agent_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"orgi", "status", "busy", "last_assigned", "status_since", "updated_at"}),
	}).Create(rows).Error
	if err != nil {
		return fmt.Errorf("store: save agent states: %w", err)
	}
	return nil
}

// AppendAgentStatusLogs records finished status spells.
func (t *RoutingTx) AppendAgentStatusLogs(ls []AgentStatusLog) error {
	if len(ls) == 0 {
		return nil
	}
	for i := range ls {
		ls[i].Since, ls[i].Until = utc(ls[i].Since), utc(ls[i].Until)
		ls[i].Seconds = int64(ls[i].Until.Sub(ls[i].Since) / time.Second)
	}
	if err := t.tx.Create(&ls).Error; err != nil {
		return fmt.Errorf("store: append status logs: %w", err)
	}
	return nil
}

// RequeueAgentSessions puts every session agentNo is serving back in the
// queue, unassigned, keeping each one's enqueue time so that they are served
// before visitors who arrived after them. It returns the sessions moved.
func (t *RoutingTx) RequeueAgentSessions(agentNo string) ([]Session, error) {
	var moved []Session
	if err := t.tx.Where("agentno = ? AND status = ?", agentNo, protocol.SessionInService).Find(&moved).Error; err != nil {
		return nil, fmt.Errorf("store: requeue sessions of %s: %w", agentNo, err)
	}
	if len(moved) == 0 {
		return nil, nil
	}
	ids := make([]string, len(moved))
	for i, m := range moved {
		ids[i] = m.ID
	}
	err := t.tx.Model(&Session{}).Where("id IN ? AND status = ?", ids, protocol.SessionInService).Updates(map[string]any{
		"status": protocol.SessionInQueue, "agentno": "", "service_time": nil, "updated_at": t.s.now(),
	}).Error
	if err != nil {
		return nil, fmt.Errorf("store: requeue sessions of %s: %w", agentNo, err)
	}
	for i := range moved {
		moved[i].Status, moved[i].AgentNo, moved[i].ServiceTime = protocol.SessionInQueue, "", nil
	}
	return moved, nil
}

// Transfer is one transfer of a session in service by From.
type Transfer struct {
	SessionID, From string
	// To is the agent who takes over; empty puts the session back in the
	// queue (keeping its enqueue time, so first) for skill group Skill.
	To, Skill, Memo string
	At              time.Time
}

// TransferSession applies tr if the session is still served by tr.From and
// reports whether it did.
func (t *RoutingTx) TransferSession(tr Transfer) (bool, error) {
	at := utc(tr.At)
	set := map[string]any{"trans": true, "trans_memo": tr.Memo, "trans_time": at, "updated_at": t.s.now(), "agent_reminded": false}
	if tr.To != "" {
		set["agentno"], set["service_time"] = tr.To, at
	} else {
		set["agentno"], set["status"], set["service_time"], set["skill"], set["agent"] = "", protocol.SessionInQueue, nil, tr.Skill, ""
	}
	res := t.tx.Model(&Session{}).Where("id = ? AND status = ? AND agentno = ?", tr.SessionID, protocol.SessionInService, tr.From).Updates(set)
	if res.Error != nil {
		return false, fmt.Errorf("store: transfer session %s: %w", tr.SessionID, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// EndSession ends a session that has not ended yet; see Store.EndSession.
func (t *RoutingTx) EndSession(id, endBy string, at time.Time) (Session, bool, error) {
	return t.s.endSession(t.tx, id, endBy, at)
}

// MarkSessions sets a timer flag (idle_warned or agent_reminded) on the
// sessions given.
func (t *RoutingTx) MarkSessions(flag string, ids []string) error {
	if flag != "idle_warned" && flag != "agent_reminded" {
		return fmt.Errorf("store: mark sessions: unknown flag %q", flag)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := t.tx.Model(&Session{}).Where("id IN ?", ids).Update(flag, true).Error; err != nil {
		return fmt.Errorf("store: mark sessions %s: %w", flag, err)
	}
	return nil
}

// RebindQueued changes the skill group and the requested agent of a
// session still waiting, and reports whether it was still waiting. The
// update time stays: it is when the wait began (see the router's picture).
func (t *RoutingTx) RebindQueued(id, skill, agent string) (bool, error) {
	res := t.tx.Model(&Session{}).Where("id = ? AND status = ?", id, protocol.SessionInQueue).
		UpdateColumns(map[string]any{"skill": skill, "agent": agent})
	if res.Error != nil {
		return false, fmt.Errorf("store: rebind queued session %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}
