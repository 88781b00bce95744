package api

import (
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// ServerOptions configure the HTTP stack of a gateway node.
type ServerOptions struct {
	Logger *slog.Logger
	// TrustProxy takes clients' addresses from X-Forwarded-For (behind a
	// load balancer we run).
	TrustProxy bool
}

// NewServer is the gateway's HTTP stack, middleware included, without
// routes: the binary and the tests both build on it, so what a test sees is
// what production serves.
func NewServer(o ServerOptions) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = ErrorHandler(o.Logger)
	e.IPExtractor = ClientIP(o.TrustProxy)
	// Outermost, so that even a refused or panicking request is logged.
	e.Use(RequestLog(o.Logger))
	e.Use(middleware.Recover())
	// Socket.IO polling bodies are bounded by the sio package itself.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   "1M",
		Skipper: func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/socket.io/") },
	}))
	return e
}

// ClientIP is the one rule for a client's address, shared by REST and the
// sockets' handshakes: behind a load balancer we run, X-Forwarded-For.
func ClientIP(trustProxy bool) echo.IPExtractor {
	if trustProxy {
		return echo.ExtractIPFromXFFHeader()
	}
	return echo.ExtractIPDirect()
}
