package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/kefu-im/kefu/gateway/loadgen/eio"
	"github.com/kefu-im/kefu/gateway/relay"
)

// relayScenario drives the /relay namespace that both our gateway
// (KEFU_RELAY_BENCH=true) and the socket.io peer serve: pairs of clients
// in a room of their own, the sender (a) on one node and the receiver (b)
// on the next, so that every message crosses nodes through Redis. b
// answers each message, which then crosses back.
type relayScenario struct {
	r      *runner
	flows  []*flow
	active []*flow
}

type relayPair struct {
	room string
	a, b *eio.Client
}

// relayArg is the argument of `relay`, and what the room receives.
type relayArg struct {
	Room string    `json:"room"`
	Data relayData `json:"data"`
}

type relayData struct {
	Flow  int    `json:"f"`
	Seq   uint64 `json:"s"`
	T     int64  `json:"t"`            // forward leg sent (ns since epoch)
	T2    int64  `json:"t2,omitempty"` // reply sent
	Reply bool   `json:"r,omitempty"`
	Pad   string `json:"p,omitempty"`
}

func (s *relayScenario) setup(ctx context.Context) error {
	r := s.r
	cfg := r.cfg
	n := len(cfg.gateways)
	s.flows = make([]*flow, cfg.visitors)
	for i := range s.flows {
		s.flows[i] = r.newFlow(i)
	}
	var mu sync.Mutex
	parallel(ctx, cfg.visitors, cfg.connectConcurrency, func(ctx context.Context, i int) {
		p := &relayPair{room: fmt.Sprintf("lg-%s-%d", r.runID, i)}
		f := s.flows[i]
		var err error
		// The clients of pair i use transports 2i and 2i+1 of the mix.
		if p.a, err = s.join(ctx, i%n, 2*i, p.room, func(d relayData) {
			if d.Reply && d.Flow == i {
				r.backArrived(f, d.Seq, d.T, d.T2)
			}
		}); err != nil {
			return
		}
		if cfg.idle {
			return // one connection per "visitor", in a room of its own
		}
		bNode := (i + 1) % n
		if !cfg.cross {
			bNode = i % n
		}
		if p.b, err = s.join(ctx, bNode, 2*i+1, p.room, func(d relayData) {
			if d.Reply || d.Flow != i {
				return
			}
			r.forwardArrived(f, d.Seq, d.T)
			if r.cfg.reply {
				counted := r.counted(d.T)
				if !r.pool.submit(func() { s.reply(p, d, counted) }) && counted {
					r.tr.unexpect(1)
				}
			}
		}); err != nil {
			return
		}
		f.send = func(seq uint64) { s.send(p, f, seq) }
		mu.Lock()
		s.active = append(s.active, f)
		mu.Unlock()
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.log.Info("relay clients ready", "pairs", len(s.active), "of", cfg.visitors, "idle", cfg.idle)
	return nil
}

func (s *relayScenario) activeFlows() []*flow { return s.active }

// join connects one client to /relay on node and joins room; onRelay gets
// what the room relays to it.
func (s *relayScenario) join(ctx context.Context, node, i int, room string, onRelay func(relayData)) (*eio.Client, error) {
	r := s.r
	c, err := r.dial(ctx, node, i, relay.Namespace, nil, func(event string, arg json.RawMessage) {
		if event != relay.EventRelay {
			return
		}
		var a relayArg
		if json.Unmarshal(arg, &a) == nil {
			onRelay(a.Data)
		}
	})
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	ack, err := c.Call(cctx, relay.EventJoin, map[string]string{"room": room})
	if err != nil || string(ack) != `{"ok":true}` {
		if err == nil {
			err = fmt.Errorf("ack %s", ack)
		}
		r.errs.add(errKind("join", err))
		return nil, err
	}
	return c, nil
}

func (s *relayScenario) send(p *relayPair, f *flow, seq uint64) {
	r := s.r
	t := r.now()
	counted := r.willSend(seq, t)
	arg := relayArg{Room: p.room, Data: relayData{Flow: f.id, Seq: seq, T: t, Pad: padding(r.cfg.payload)}}
	if err := p.a.EmitAsync(relay.EventRelay, arg, func(ack json.RawMessage, err error) {
		r.acked(t, counted, ack, err)
	}); err != nil {
		r.sendFailed(counted, err)
	}
}

func (s *relayScenario) reply(p *relayPair, d relayData, counted bool) {
	r := s.r
	d.T2 = r.now()
	d.Reply = true
	if counted {
		r.backSent.Add(1)
	}
	if err := p.b.EmitAsync(relay.EventRelay, relayArg{Room: p.room, Data: d}, func(ack json.RawMessage, err error) {
		r.replyAcked(counted, ack, err)
	}); err != nil {
		r.errs.add(errKind("reply send", err))
		if counted {
			r.tr.unexpect(1)
		}
	}
}
