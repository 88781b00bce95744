package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/pkg/logging"
)

// HeaderRequestID names a request: taken from the client (or the load
// balancer) when it is a sane id, else made up; echoed in the response.
const HeaderRequestID = "X-Request-Id"

const maxRequestIDLen = 64

// validRequestID accepts short ids of safe characters only: the id goes
// into every log line of the request and back into a response header.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// quietPaths are logged at debug: probes, scrapes and the Socket.IO
// transport (a long-polling client makes a request per packet).
var quietPaths = []string{"/healthz", "/readyz", "/metrics", "/socket.io/"}

// secretParams are route parameters that are credentials (capability URLs):
// a request on such a route is logged with the route's pattern instead of
// its path.
var secretParams = []string{"token"}

// RequestLog names every request (X-Request-Id), puts the id in the
// request's context for logging.NewHandler loggers, and writes one access
// log line per request when it is done. Query strings are never logged:
// agents' tokens and visitors' signatures travel in them.
func RequestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			req := c.Request()
			id := req.Header.Get(HeaderRequestID)
			if !validRequestID(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(HeaderRequestID, id)
			c.SetRequest(req.WithContext(logging.With(req.Context(), "request_id", id)))
			if err := next(c); err != nil {
				c.Error(err) // writes the status we log
			}
			level := slog.LevelInfo
			for _, p := range quietPaths {
				if req.URL.Path == p || strings.HasSuffix(p, "/") && strings.HasPrefix(req.URL.Path, p) {
					level = slog.LevelDebug
				}
			}
			res := c.Response()
			// The request's original context: request_id is given here
			// explicitly, whichever handler the logger has.
			log.LogAttrs(req.Context(), level, "http request",
				slog.String("method", req.Method), slog.String("path", loggedPath(c)), slog.Int("status", res.Status),
				slog.Duration("duration", time.Since(start)), slog.Int64("bytes", res.Size), slog.String("request_id", id))
			return nil
		}
	}
}

func loggedPath(c echo.Context) string {
	for _, name := range c.ParamNames() {
		for _, secret := range secretParams {
			if name == secret {
				return c.Path()
			}
		}
	}
	return c.Request().URL.Path
}
