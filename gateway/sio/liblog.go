package sio

import (
	"context"
	"log/slog"

	libslog "golang.org/x/exp/slog"

	"github.com/googollee/go-socket.io/logger"
)

// RouteLibraryLogs sends the Socket.IO library's own log lines, which it
// writes through a package-level logger of the pre-standard slog, to l at
// debug level: they report ordinary disconnects as errors, and would
// otherwise bypass the process's log format. The library offers no other
// hook, so this sets its package variable; call it once, from main.
func RouteLibraryLogs(l *slog.Logger) {
	logger.Log = libraryLogger(l)
}

func libraryLogger(l *slog.Logger) *libslog.Logger {
	return libslog.New(libHandler{l: l.With("component", "socketio-lib")})
}

// libHandler adapts the library's slog to ours.
type libHandler struct {
	l     *slog.Logger
	attrs []any
}

func (h libHandler) Enabled(ctx context.Context, _ libslog.Level) bool {
	return h.l.Enabled(ctx, slog.LevelDebug)
}

func (h libHandler) Handle(ctx context.Context, r libslog.Record) error {
	args := append([]any{}, h.attrs...)
	r.Attrs(func(a libslog.Attr) bool {
		args = append(args, a.Key, a.Value.Any())
		return true
	})
	args = append(args, "lib_level", r.Level.String())
	h.l.DebugContext(ctx, r.Message, args...)
	return nil
}

func (h libHandler) WithAttrs(as []libslog.Attr) libslog.Handler {
	for _, a := range as {
		h.attrs = append(h.attrs, a.Key, a.Value.Any())
	}
	return h
}

func (h libHandler) WithGroup(string) libslog.Handler { return h }
