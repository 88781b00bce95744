// Package archive is the REST API of ended conversations: search (filters and full text), transcripts with their events, and CSV export.
package archive

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/pkg/access"
)

// Store is what the archive API reads and writes.
type Store interface{}

// Deps are the API's collaborators.
type Deps struct {
	Store  Store
	Access *access.Resolver
	Logger *slog.Logger
}

// API holds the handlers.
type API struct{ Deps }

// New returns the API.
func New(d Deps) *API { return &API{Deps: d} }

// Register mounts the routes on staff, the authenticated /api/v1 group.
func (a *API) Register(staff *echo.Group) {}
