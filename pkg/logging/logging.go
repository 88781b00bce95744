// Package logging carries log attributes in a context.Context: a request's
// id, a socket's session id and who is behind it. Handlers that log with the
// *Context methods (InfoContext, WarnContext, LogAttrs ...) then say which
// request or socket a line is about, without passing loggers around.
package logging

import (
	"context"
	"log/slog"
)

type attrsKey struct{}

// With returns a copy of ctx that also carries args, slog key-value pairs or
// Attrs as in slog.Logger.With.
func With(ctx context.Context, args ...any) context.Context {
	var r slog.Record
	r.Add(args...)
	prev := Attrs(ctx)
	attrs := make([]slog.Attr, 0, len(prev)+r.NumAttrs())
	attrs = append(attrs, prev...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	return context.WithValue(ctx, attrsKey{}, attrs)
}

// Attrs returns the attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	return attrs
}

// NewHandler wraps h so that each record also gets the attributes of the
// context it is logged with.
func NewHandler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ inner slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if attrs := Attrs(ctx); len(attrs) > 0 {
		r = r.Clone()
		r.AddAttrs(attrs...)
	}
	return h.inner.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler { return handler{h.inner.WithAttrs(attrs)} }

func (h handler) WithGroup(name string) slog.Handler { return handler{h.inner.WithGroup(name)} }
