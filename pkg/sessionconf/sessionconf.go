// Package sessionconf resolves routing and session settings: a skill
// group's overrides over the tenant's row over the built-in defaults. Routing
// and the settings editor both read it, so that what the editor shows as
// taking effect is what routing does.
package sessionconf

import (
	"github.com/kefu-im/kefu/pkg/prompt"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
	"github.com/kefu-im/kefu/pkg/workhours"
)

// Built-in defaults (UCKeFu's and cskefu's).
const (
	DefaultDistribution = protocol.DistributionLeast
	DefaultMaxUser      = 10 // AGENT_STATUS_MAX_USER
	DefaultInitMaxUser  = 5  // the settings page's initmaxuser
)

// Where a resolved value comes from.
const (
	FromDefault = "default"
	FromTenant  = "tenant"
	FromGroup   = "group"
)

// Value is one resolved setting and where it comes from.
type Value[T any] struct {
	Value  T      `json:"value"`
	Source string `json:"source"`
}

// Resolved are the settings that take effect for the tenant or one group.
// Timers are seconds, 0 off (visitorleftgrace 0: the service's default).
type Resolved struct {
	Distribution     Value[string] `json:"distribution"`
	LastAgent        Value[bool]   `json:"lastagent"`
	MaxUser          Value[int]    `json:"maxuser"`
	InitMaxUser      Value[int]    `json:"initmaxuser"`
	VisitorIdleWarn  Value[int]    `json:"timeout"`
	VisitorIdleClose Value[int]    `json:"retimeout"`
	AgentNoReply     Value[int]    `json:"agenttimeout"`
	QueueTimeout     Value[int]    `json:"quenetimeout"`
	VisitorLeftGrace Value[int]    `json:"visitorleftgrace"`
	// Hours: a group's working hours or schedule, when it sets either,
	// replace the tenant's pair whole: half of one and half of the other
	// would be hours nobody wrote.
	WorkingHours Value[string]             `json:"workinghours"`
	Schedule     Value[workhours.Schedule] `json:"schedule"`
	Lang         Value[string]             `json:"lang"`
}

// Input is what a resolution reads. Group is nil for the tenant itself;
// the MaxUser fields are the tenant's and the group's own records.
type Input struct {
	Tenant, Group               *store.SessionConfig
	TenantMaxUser, GroupMaxUser int
}

// Resolve merges the settings. A stored schedule that no longer reads is
// taken as none: a bad row must not close the service.
func Resolve(in Input) Resolved {
	t, g := in.Tenant, in.Group
	if t == nil {
		t = &store.SessionConfig{}
	}
	if g == nil {
		g = &store.SessionConfig{}
	}
	r := Resolved{
		Distribution: pick(FromDefault, DefaultDistribution, layer(FromTenant, t.Distribution), layer(FromGroup, g.Distribution)),
		MaxUser: pick(FromDefault, DefaultMaxUser, layer(FromTenant, in.TenantMaxUser), layer(FromTenant, t.MaxUser),
			layer(FromGroup, in.GroupMaxUser), layer(FromGroup, g.MaxUser)),
		InitMaxUser: pick(FromDefault, DefaultInitMaxUser, layer(FromTenant, t.InitMaxUser), layer(FromGroup, g.InitMaxUser)),
		Lang:        pick(FromDefault, prompt.Chinese, layer(FromTenant, t.Lang)),
	}
	r.LastAgent = Value[bool]{Source: FromDefault}
	for _, l := range []struct {
		v    *bool
		from string
	}{{t.LastAgent, FromTenant}, {g.LastAgent, FromGroup}} {
		if l.v != nil {
			r.LastAgent = Value[bool]{*l.v, l.from}
		}
	}
	for _, p := range []struct {
		dst      *Value[int]
		own, sub int
	}{
		{&r.VisitorIdleWarn, t.VisitorIdleWarn, g.VisitorIdleWarn}, {&r.VisitorIdleClose, t.VisitorIdleClose, g.VisitorIdleClose},
		{&r.AgentNoReply, t.AgentNoReply, g.AgentNoReply}, {&r.QueueTimeout, t.QueueTimeout, g.QueueTimeout},
		{&r.VisitorLeftGrace, t.VisitorLeftGrace, g.VisitorLeftGrace},
	} {
		*p.dst = pick(FromDefault, 0, layer(FromTenant, p.own), layer(FromGroup, p.sub))
		if p.sub < 0 { // a group's -1 turns the tenant's timer off
			*p.dst = Value[int]{0, FromGroup}
		}
	}
	hours := t
	r.WorkingHours.Source, r.Schedule.Source = FromTenant, FromTenant
	if g.WorkingHours != "" || g.Schedule != "" {
		hours = g
		r.WorkingHours.Source, r.Schedule.Source = FromGroup, FromGroup
	} else if t.WorkingHours == "" && t.Schedule == "" {
		r.WorkingHours.Source, r.Schedule.Source = FromDefault, FromDefault
	}
	r.WorkingHours.Value = hours.WorkingHours
	r.Schedule.Value, _ = workhours.DecodeSchedule(hours.Schedule)
	return r
}

// Hours compiles the working hours that take effect; stored hours that no
// longer compile are always open, as for Resolve.
func (r Resolved) Hours() workhours.Hours {
	h, err := workhours.Compile(r.WorkingHours.Value, r.Schedule.Value)
	if err != nil {
		return workhours.Always
	}
	return h
}

// Timers are the resolved timers in the stored shape.
func (r Resolved) Timers() store.SessionTimers {
	return store.SessionTimers{
		VisitorIdleWarn: r.VisitorIdleWarn.Value, VisitorIdleClose: r.VisitorIdleClose.Value, AgentNoReply: r.AgentNoReply.Value,
		QueueTimeout: r.QueueTimeout.Value, VisitorLeftGrace: r.VisitorLeftGrace.Value,
		WorkingHours: r.WorkingHours.Value, Schedule: r.Schedule.Value.Encode(),
	}
}

type candidate[T comparable] struct {
	from string
	v    T
}

func layer[T comparable](from string, v T) candidate[T] { return candidate[T]{from, v} }

// pick is the last layer that sets a value (its zero inherits), else def.
func pick[T comparable](defFrom string, def T, layers ...candidate[T]) Value[T] {
	out := Value[T]{def, defFrom}
	var zero T
	for _, l := range layers {
		if l.v != zero {
			out = Value[T]{l.v, l.from}
		}
	}
	return out
}
