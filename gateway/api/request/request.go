// Package request holds what every REST handler of the gateway needs from
// a request, whichever domain package it is in: the authenticated principal,
// strict JSON binding with clear errors, and query parameters.
package request

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

const principalKey = "principal"

// Principal is the request's authenticated staff member (zero if none).
func Principal(c echo.Context) auth.Principal {
	p, _ := c.Get(principalKey).(auth.Principal)
	return p
}

// Authenticator resolves bearer tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// Authenticate requires `Authorization: Bearer <token>` and records its
// staff member for Principal.
func Authenticate(a Authenticator) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if !ok {
				return protocol.Errorf(protocol.CodeUnauthorized, "missing bearer token")
			}
			p, err := a.Authenticate(c.Request().Context(), strings.TrimSpace(token))
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// RequireRole admits principals holding any of roles.
func RequireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := Principal(c)
			for _, r := range roles {
				if p.Has(r) {
					return next(c)
				}
			}
			return protocol.Errorf(protocol.CodeForbidden, "needs role %s", strings.Join(roles, " or "))
		}
	}
}

// Bind decodes a JSON body strictly enough to give clear errors, then runs
// v's Validate method if it has one.
func Bind(c echo.Context, v any) error {
	if err := (&echo.DefaultBinder{}).BindBody(c, v); err != nil {
		return protocol.Errorf(protocol.CodeBadRequest, "invalid JSON body: %v", bindMessage(err))
	}
	if val, ok := v.(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func bindMessage(err error) string {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if he.Internal != nil {
			return he.Internal.Error()
		}
		return fmt.Sprint(he.Message)
	}
	return err.Error()
}

// MaxText refuses a text field longer than n characters (bad_request).
func MaxText(field, v string, n int) error {
	if utf8.RuneCountInString(v) > n {
		return protocol.Errorf(protocol.CodeBadRequest, "%s is longer than %d characters", field, n)
	}
	return nil
}

// Int reads an optional non-negative integer query parameter (0 if absent).
func Int(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, protocol.Errorf(protocol.CodeBadRequest, "%s must be a non-negative integer", name)
	}
	return n, nil
}

// NotFound turns the store's ErrNotFound into a `not_found` naming what.
func NotFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return protocol.Errorf(protocol.CodeNotFound, "%s not found", what)
	}
	return err
}

// CSVFile answers with body as a CSV download named
// <prefix>-<UTC date and time>.csv, so that exports saved one after another
// do not overwrite each other.
func CSVFile(c echo.Context, prefix string, body []byte) error {
	name := prefix + "-" + time.Now().UTC().Format("20060102-150405") + ".csv"
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", body)
}
