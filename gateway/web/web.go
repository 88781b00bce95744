// Package web serves the front end (agent workbench, widget, site admin, demo visitor page) that is built from
// gateway/web/src and gateway/web/pages by `npm ci && npm run build` (see `make run`)
// into gateway/web/dist and embedded here.
//
// dist/ holds only .gitkeep in a fresh clone, so the Go build never depends on npm:
// until the assets are built, Handler answers with a 503 page that says how to build them.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var distFS embed.FS

// builtMarker is the file whose presence means the bundle was built.
const builtMarker = "visitor.js"

// assets is the embedded dist directory.
func assets() fs.FS {
	sub, err := fs.Sub(distFS, "dist")
	if err != nil {
		panic(err) // "dist" is a valid literal path; fs.Sub cannot fail here
	}
	return sub
}

// Built reports whether the front-end assets were built (dist/visitor.js is embedded).
func Built() bool {
	return isBuilt(assets())
}

// Handler serves the embedded demo pages. Mount it under a prefix and strip it, e.g.
//
//	mux.Handle("/demo/", http.StripPrefix("/demo", web.Handler()))
//
// "/" serves index.html; "/visitor" and "/visitor.html" both serve the visitor page.
func Handler() http.Handler {
	return embedded()
}

// ServeFile serves the built file name (e.g. "widget.html"); an HTML page gets
// pageCSP as its Content-Security-Policy, or the default one when empty. It
// answers 503 with the build instructions while the assets, or that file,
// are not built.
func ServeFile(w http.ResponseWriter, r *http.Request, name, pageCSP string) {
	h := embedded().(*handler)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !h.built {
		h.serve(w, r, h.notice, http.StatusServiceUnavailable, "")
		return
	}
	a, ok := h.files[name]
	if !ok {
		// Built from sources that predate this file: as good as not built.
		h.serve(w, r, h.notice, http.StatusServiceUnavailable, "")
		return
	}
	h.serve(w, r, a, http.StatusOK, pageCSP)
}

// embedded is built once: the embedded files never change while the process runs.
var embedded = sync.OnceValue(func() http.Handler { return newHandler(assets()) })

func isBuilt(fsys fs.FS) bool {
	_, err := fs.Stat(fsys, builtMarker)
	return err == nil
}

type asset struct {
	body  []byte
	ctype string
	etag  string
}

type handler struct {
	built  bool
	files  map[string]asset // by slash path without leading slash, e.g. "visitor.js"
	notice asset
}

// newHandler serves the regular files of fsys (dot files excluded). The files are read
// once, here: fsys is expected to be small and immutable (the embedded dist directory).
func newHandler(fsys fs.FS) http.Handler {
	h := &handler{built: isBuilt(fsys), files: map[string]asset{}}
	h.notice = newAsset("notice.html", []byte(notBuiltPage))
	if !h.built {
		return h
	}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // skip what cannot be read
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil
		}
		h.files[p] = newAsset(p, b)
		return nil
	})
	return h
}

func newAsset(name string, body []byte) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// contentType does not depend on the host's MIME tables for the types the bundle uses.
func contentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// csp keeps the pages to their own origin: scripts and styles from files only (no inline code),
// and connections to the same host (fetch, Socket.IO polling and websocket).
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" && r.URL.Path == "" && !strings.HasSuffix(requestPath(r), "/") {
		// Mounted with StripPrefix("/demo") and asked for "/demo": the pages use relative
		// URLs, so send the browser to "/demo/" first.
		target := path.Base(requestPath(r)) + "/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		// A relative Location resolves against the requested URL ("/x/demo" -> "/x/demo/");
		// http.Redirect would resolve it against the stripped path instead.
		hdr.Set("Location", target)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}

	if !h.built {
		h.serve(w, r, h.notice, http.StatusServiceUnavailable, "")
		return
	}

	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	a, ok := h.files[name]
	if !ok && path.Ext(name) == "" {
		a, ok = h.files[name+".html"]
	}
	if !ok {
		hdr.Set("Cache-Control", "no-cache")
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	h.serve(w, r, a, http.StatusOK, "")
}

// requestPath is the path the client asked for, before any StripPrefix.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return p
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, a asset, status int, pageCSP string) {
	hdr := w.Header()
	hdr.Set("Content-Type", a.ctype)
	// The bundle's file names carry no content hash, so every file is revalidated (cheaply, by ETag).
	hdr.Set("Cache-Control", "no-cache")
	if strings.HasPrefix(a.ctype, "text/html") {
		if pageCSP == "" {
			pageCSP = csp
		}
		hdr.Set("Content-Security-Policy", pageCSP)
		hdr.Set("Referrer-Policy", "same-origin")
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(a.body)
		}
		return
	}
	hdr.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

const notBuiltPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Kefu demo: not built</title></head>
<body>
<h1>Front-end assets are not built yet</h1>
<p>The demo pages are bundled with npm and embedded into the Go binary at build time.
Run <code>make run</code> (it runs <code>npm ci &amp;&amp; npm run build</code> in <code>gateway/web</code>),
or run those two commands yourself and rebuild the Go binary.</p>
</body>
</html>
`
