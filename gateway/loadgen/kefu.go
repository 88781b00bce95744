package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-im/kefu/gateway/loadgen/eio"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// kefuScenario drives Kefu's own protocol: agents created through the
// admin API, logged in, connected to /im/agent and ready; visitors with
// signed identities on /im/user who open a chat (`new`), are assigned, and
// then send messages that the agents answer. Every message is stored.
type kefuScenario struct {
	r      *runner
	agents []*kefuAgent
	flows  []*flow // by visitor index; the ones that got ready are active
	active []*flow
}

type kefuAgent struct {
	id, username string
	token        string
	node         int
	c            *eio.Client
}

type kefuVisitor struct {
	userID, sign string
	node         int
	agent        *kefuAgent
	c            *eio.Client
	assigned     chan struct{}
	once         sync.Once
}

func (k *kefuScenario) setup(ctx context.Context) error {
	r := k.r
	cfg := r.cfg
	n := len(cfg.gateways)
	k.flows = make([]*flow, cfg.visitors)
	for i := range k.flows {
		k.flows[i] = r.newFlow(i)
	}
	if !cfg.idle {
		if cfg.agents < 1 {
			return errors.New("kefu mode needs at least one agent (-agents)")
		}
		var login struct{ Token string }
		if err := r.rest(ctx, "POST", cfg.gateways[0]+"/api/v1/auth/login", "",
			map[string]string{"username": cfg.adminUser, "password": cfg.adminPassword}, &login); err != nil {
			return fmt.Errorf("admin login as %q (set -admin-password to the gateways' KEFU_DEMO_PASSWORD): %w", cfg.adminUser, err)
		}
		k.agents = make([]*kefuAgent, cfg.agents)
		maxUser := cfg.visitors + 10
		parallel(ctx, cfg.agents, 8, func(ctx context.Context, i int) {
			a, err := k.readyAgent(ctx, login.Token, i, i%n, maxUser)
			if err != nil {
				r.log.Warn("agent not ready", "agent", i, "err", err)
				return
			}
			k.agents[i] = a
		})
		ready := 0
		for _, a := range k.agents {
			if a != nil {
				ready++
			}
		}
		if ready == 0 {
			return errors.New("no agent got ready")
		}
		r.log.Info("agents ready", "ready", ready, "of", cfg.agents)
		if err := k.supervise(ctx, login.Token); err != nil {
			return err
		}
	}

	var mu sync.Mutex
	parallel(ctx, cfg.visitors, cfg.connectConcurrency, func(ctx context.Context, i int) {
		v := &kefuVisitor{node: i % n, assigned: make(chan struct{})}
		if !cfg.idle {
			v.agent = k.agents[i%len(k.agents)]
			if v.agent == nil {
				return
			}
			if cfg.cross {
				v.node = (v.agent.node + 1) % n
			}
		}
		if err := k.readyVisitor(ctx, v, i); err != nil || cfg.idle {
			return // failures are counted where they happen
		}
		f := k.flows[i]
		f.send = func(seq uint64) { k.visitorSend(v, f, seq) }
		mu.Lock()
		k.active = append(k.active, f)
		mu.Unlock()
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.log.Info("visitors ready", "ready", len(k.active), "of", cfg.visitors, "idle", cfg.idle)
	return nil
}

func (k *kefuScenario) activeFlows() []*flow { return k.active }

// readyAgent creates agent i, logs it in, connects it and sets it ready.
func (k *kefuScenario) readyAgent(ctx context.Context, adminToken string, i, node, maxUser int) (*kefuAgent, error) {
	r := k.r
	base := r.cfg.gateways[node]
	a := &kefuAgent{username: fmt.Sprintf("lg%sa%d", r.runID, i), node: node}
	password := "lg-pass-" + r.runID
	if err := r.rest(ctx, "POST", r.cfg.gateways[0]+"/api/v1/admin/agents", adminToken, map[string]any{
		"username": a.username, "password": password, "nickname": fmt.Sprintf("Loadgen %d", i), "maxuser": maxUser,
	}, nil); err != nil {
		r.errs.add(restKind("create agent", err))
		return nil, err
	}
	var login struct {
		Token string
		Agent struct {
			ID json.RawMessage `json:"id"`
		}
	}
	if err := r.rest(ctx, "POST", base+"/api/v1/auth/login", "", map[string]string{"username": a.username, "password": password}, &login); err != nil {
		r.errs.add(restKind("agent login", err))
		return nil, err
	}
	a.token = login.Token
	a.id = strings.Trim(string(login.Agent.ID), `"`)
	c, err := r.dial(ctx, node, i, protocol.NamespaceAgent, url.Values{"token": {a.token}}, func(event string, arg json.RawMessage) {
		k.agentEvent(a, event, arg)
	})
	if err != nil {
		return nil, err
	}
	a.c = c
	if err := r.rest(ctx, "PUT", base+"/api/v1/agent/status", a.token, map[string]string{"status": protocol.AgentReady}, nil); err != nil {
		r.errs.add(restKind("agent ready", err))
		return nil, err
	}
	return a, nil
}

// supervise connects the monitoring sockets (the admin's: the whole tenant
// in scope) and starts their monitors.
func (k *kefuScenario) supervise(ctx context.Context, adminToken string) error {
	r := k.r
	for i := range r.cfg.supervisors {
		node := i % len(r.cfg.gateways)
		c, err := r.dial(ctx, node, i, protocol.NamespaceAgent, url.Values{"token": {adminToken}}, k.supervisorEvent)
		if err != nil {
			return fmt.Errorf("supervisor %d: %w", i, err)
		}
		cctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
		ack, err := c.Call(cctx, protocol.EventMonitor, protocol.MonitorRequest{On: true})
		cancel()
		var ok protocol.OKAck
		if err != nil || json.Unmarshal(ack, &ok) != nil || !ok.OK {
			return fmt.Errorf("supervisor %d: monitor: %v %s", i, err, ack)
		}
	}
	if r.cfg.supervisors > 0 {
		r.log.Info("supervisors monitoring", "sockets", r.cfg.supervisors)
	}
	return nil
}

// supervisorEvent times a message's mirror from its send: a visitor's
// ("lg", sent at t) or an agent's reply ("lr", sent at t2).
func (k *kefuScenario) supervisorEvent(event string, arg json.RawMessage) {
	if event != protocol.EventAuditMessage {
		return
	}
	r := k.r
	now := r.now()
	var m chatMessage
	if json.Unmarshal(arg, &m) != nil {
		return
	}
	sent := int64(-1)
	if _, _, t, _, ok := parseStamp(m.Message, "lg", 3); ok && r.counted(t) {
		sent = t
	} else if _, _, t, t2, ok := parseStamp(m.Message, "lr", 4); ok && r.counted(t) {
		sent = t2
	}
	if sent >= 0 {
		r.mirrored.Add(1)
		r.mirror.record(time.Duration(now - sent))
	}
}

// readyVisitor gets an identity, connects, and (unless idle) opens a chat
// and waits until it is assigned.
func (k *kefuScenario) readyVisitor(ctx context.Context, v *kefuVisitor, i int) error {
	r := k.r
	base := r.cfg.gateways[v.node]
	var ident struct{ UserID, Sign string }
	if err := r.rest(ctx, "POST", base+"/im/"+url.PathEscape(r.cfg.appID)+"/visitor", "", map[string]string{}, &ident); err != nil {
		r.errs.add(restKind("visitor identity", err))
		return err
	}
	v.userID, v.sign = ident.UserID, ident.Sign
	q := url.Values{"appid": {r.cfg.appID}, "userid": {v.userID}, "sign": {v.sign}, "nickname": {"lg" + strconv.Itoa(i)}}
	if v.agent != nil {
		q.Set("agent", v.agent.id) // ask for this agent: the chat crosses nodes
	}
	c, err := r.dial(ctx, v.node, i, protocol.NamespaceUser, q, func(event string, arg json.RawMessage) {
		k.visitorEvent(v, i, event, arg)
	})
	if err != nil {
		return err
	}
	v.c = c
	if r.cfg.idle {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	ackRaw, err := c.Call(cctx, protocol.EventNew, protocol.NewChat{Name: "Loadgen visitor"})
	if err != nil {
		r.errs.add(errKind("new", err))
		return err
	}
	var ack protocol.NewChatAck
	if json.Unmarshal(ackRaw, &ack) != nil || !ack.OK {
		r.errs.add("new: " + string(ackRaw))
		return fmt.Errorf("new: %s", ackRaw)
	}
	select {
	case <-v.assigned:
		return nil
	case <-c.Done():
		r.errs.add(errKind("waiting for assignment", c.Err()))
		return c.Err()
	case <-cctx.Done():
		r.errs.add("waiting for assignment: timed out")
		return cctx.Err()
	}
}

// visitorSend stamps and sends message seq from visitor v.
func (k *kefuScenario) visitorSend(v *kefuVisitor, f *flow, seq uint64) {
	r := k.r
	t := r.now()
	counted := r.willSend(seq, t)
	msg := protocol.SendMessage{
		Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText,
		Message:  fmt.Sprintf("lg %d %d %d %s", f.id, seq, t, padding(r.cfg.payload)),
		ClientID: fmt.Sprintf("lg-%s-%d", r.runID, seq),
	}
	if err := v.c.EmitAsync(protocol.EventMessage, msg, func(ack json.RawMessage, err error) {
		r.acked(t, counted, ack, err)
	}); err != nil {
		r.sendFailed(counted, err)
	}
}

// chatMessage is the part of a ChatMessage the load generator reads.
type chatMessage struct {
	AgentServiceID string `json:"agentserviceid"`
	Type           string `json:"type"`
	CallType       string `json:"calltype"`
	Message        string `json:"message"`
}

var (
	callTypeIn  = []byte(`"calltype":"in"`)
	callTypeOut = []byte(`"calltype":"out"`)
)

func (k *kefuScenario) visitorEvent(v *kefuVisitor, i int, event string, arg json.RawMessage) {
	r := k.r
	switch event {
	case protocol.EventStatus:
		var st protocol.VisitorStatus
		if json.Unmarshal(arg, &st) != nil {
			return
		}
		switch st.State {
		case protocol.StateAssigned:
			v.once.Do(func() { close(v.assigned) })
		case protocol.StateEnded:
			r.errs.add("visitor: chat ended")
		}
	case protocol.EventMessage:
		// Visitors also get the echo of their own messages (calltype in).
		if !bytes.Contains(arg, callTypeOut) {
			return
		}
		var m chatMessage
		if json.Unmarshal(arg, &m) != nil || m.Type != protocol.TypeMessage {
			return
		}
		fl, seq, t, t2, ok := parseStamp(m.Message, "lr", 4)
		if !ok || fl != i {
			return
		}
		r.backArrived(k.flows[i], seq, t, t2)
	case protocol.EventRefused:
		r.errs.add("visitor refused: " + string(arg))
	}
}

func (k *kefuScenario) agentEvent(a *kefuAgent, event string, arg json.RawMessage) {
	r := k.r
	switch event {
	case protocol.EventMessage:
		// Agents also get the echo of their own replies (calltype out).
		if !bytes.Contains(arg, callTypeIn) {
			return
		}
		var m chatMessage
		if json.Unmarshal(arg, &m) != nil || m.Type != protocol.TypeMessage {
			return
		}
		fl, seq, t, _, ok := parseStamp(m.Message, "lg", 3)
		if !ok || fl < 0 || fl >= len(k.flows) {
			return
		}
		r.forwardArrived(k.flows[fl], seq, t)
		if r.cfg.reply {
			sid := m.AgentServiceID
			counted := r.counted(t)
			if !r.pool.submit(func() { k.agentReply(a, sid, fl, seq, t, counted) }) && counted {
				r.tr.unexpect(1)
			}
		}
	case protocol.EventRefused, protocol.EventLeave:
		r.errs.add("agent " + event + ": " + string(arg))
	}
}

// agentReply answers message seq of flow fl.
func (k *kefuScenario) agentReply(a *kefuAgent, sid string, fl int, seq uint64, t int64, counted bool) {
	r := k.r
	t2 := r.now()
	if counted {
		r.backSent.Add(1)
	}
	msg := protocol.SendMessage{
		AgentServiceID: sid, Type: protocol.TypeMessage, MsgType: protocol.MsgTypeText,
		Message:  fmt.Sprintf("lr %d %d %d %d %s", fl, seq, t, t2, padding(r.cfg.payload)),
		ClientID: fmt.Sprintf("lr-%s-%d", r.runID, seq),
	}
	if err := a.c.EmitAsync(protocol.EventMessage, msg, func(ack json.RawMessage, err error) {
		r.replyAcked(counted, ack, err)
	}); err != nil {
		r.errs.add(errKind("reply send", err))
		if counted {
			r.tr.unexpect(1)
		}
	}
}

// parseStamp reads "<tag> <flow> <seq> <t> [<t2>] ..." (fields numbers
// after the tag).
func parseStamp(s, tag string, fields int) (fl int, seq uint64, t, t2 int64, ok bool) {
	f := strings.Fields(s)
	if len(f) < fields+1 || f[0] != tag {
		return 0, 0, 0, 0, false
	}
	var err error
	if fl, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, 0, 0, false
	}
	if seq, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return 0, 0, 0, 0, false
	}
	if t, err = strconv.ParseInt(f[3], 10, 64); err != nil {
		return 0, 0, 0, 0, false
	}
	if fields >= 4 {
		if t2, err = strconv.ParseInt(f[4], 10, 64); err != nil {
			return 0, 0, 0, 0, false
		}
	}
	return fl, seq, t, t2, true
}
