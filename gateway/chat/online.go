package chat

import (
	"context"
	"sync"
	"time"

	"github.com/kefu-im/kefu/pkg/online"
)

// OnlineRegistry is where gateways publish the visitors they hold, for
// agents' invite lists.
type OnlineRegistry interface {
	Seen(ctx context.Context, orgi string, vs []online.Visitor) error
	Gone(ctx context.Context, orgi, appid, userid string) error
}

// localVisitors are this node's visitors with the widget open: one entry per
// visitor, however many tabs.
type localVisitors struct {
	mu sync.Mutex
	m  map[string]*localVisitor // orgi + key → visitor
}

type localVisitor struct {
	orgi    string
	v       online.Visitor
	sockets int
}

// add counts a socket of v and returns the entry's current state.
func (l *localVisitors) add(orgi string, v online.Visitor) online.Visitor {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]*localVisitor)
	}
	e := l.m[orgi+"|"+v.Key()]
	if e == nil {
		e = &localVisitor{orgi: orgi, v: v}
		l.m[orgi+"|"+v.Key()] = e
	}
	e.sockets++
	return e.v
}

// update changes an entry in place (page, chatting) and returns it.
func (l *localVisitors) update(orgi, appid, userid string, f func(*online.Visitor)) (online.Visitor, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[orgi+"|"+appid+"|"+userid]
	if e == nil {
		return online.Visitor{}, false
	}
	f(&e.v)
	return e.v, true
}

// remove uncounts a socket and reports whether the visitor has none left.
func (l *localVisitors) remove(orgi, appid, userid string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := orgi + "|" + appid + "|" + userid
	e := l.m[k]
	if e == nil {
		return false
	}
	if e.sockets--; e.sockets > 0 {
		return false
	}
	delete(l.m, k)
	return true
}

// byTenant copies the entries, grouped by tenant.
func (l *localVisitors) byTenant() map[string][]online.Visitor {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]online.Visitor)
	for _, e := range l.m {
		out[e.orgi] = append(out[e.orgi], e.v)
	}
	return out
}

// seen publishes one visitor's current state; failures are only logged (the
// refresh repairs them).
func (s *Service) seen(ctx context.Context, orgi string, v online.Visitor) {
	if err := s.Online.Seen(ctx, orgi, []online.Visitor{v}); err != nil {
		s.Logger.DebugContext(ctx, "online visitor not published", "err", err)
	}
}

// RunOnlineRefresh republishes this node's visitors every
// online.RefreshInterval until ctx ends, so that the registry forgets those
// of a node that died.
func (s *Service) RunOnlineRefresh(ctx context.Context) error {
	t := time.NewTicker(online.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for orgi, vs := range s.visitorsHere.byTenant() {
				if err := s.Online.Seen(ctx, orgi, vs); err != nil {
					s.Logger.Warn("online visitors not refreshed", "orgi", orgi, "err", err)
				}
			}
		}
	}
}
