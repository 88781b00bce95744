package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func builtFS() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":     {Data: nil},
		"index.html":   {Data: []byte("<!doctype html><title>index</title>")},
		"visitor.html": {Data: []byte("<!doctype html><title>visitor</title>")},
		"visitor.js":   {Data: []byte("console.log('visitor')")},
		"workbench.js": {Data: []byte("console.log('workbench')")},
		"style.css":    {Data: []byte("body{}")},
	}
}

func TestHandlerBuilt(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/demo/", http.StripPrefix("/demo", newHandler(builtFS())))

	cases := []struct {
		path, ctype, body string
	}{
		{"/demo/", "text/html; charset=utf-8", "<title>index</title>"},
		{"/demo/visitor.html?appid=x", "text/html; charset=utf-8", "<title>visitor</title>"},
		{"/demo/visitor", "text/html; charset=utf-8", "<title>visitor</title>"},
		{"/demo/visitor.js", "text/javascript; charset=utf-8", "console.log('visitor')"},
		{"/demo/style.css", "text/css; charset=utf-8", "body{}"},
	}
	for _, c := range cases {
		rec := get(t, mux, c.path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", c.path, rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: Content-Type %q, want %q", c.path, got, c.ctype)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", c.path, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q", c.path, got)
		}
		if !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s: body %q", c.path, rec.Body.String())
		}
	}

	// Revalidation by ETag.
	rec := get(t, mux, "/demo/visitor.js")
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if rec := get(t, mux, "/demo/visitor.js", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", rec.Code)
	}

	// Dot files, unknown files and paths outside dist are not served (the last two bypass
	// ServeMux, which would clean them).
	h := newHandler(builtFS())
	for _, c := range []struct {
		h http.Handler
		p string
	}{{mux, "/demo/.gitkeep"}, {mux, "/demo/nope.js"}, {h, "/../web.go"}, {h, "/%2e%2e/web.go"}} {
		if rec := get(t, c.h, c.p); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", c.p, rec.Code)
		}
	}

	// Only GET and HEAD.
	req := httptest.NewRequest(http.MethodPost, "/demo/visitor.html", nil)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}

func TestHandlerRedirectsBarePrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/demo", http.StripPrefix("/demo", newHandler(builtFS())))
	rec := get(t, mux, "/demo?appid=x")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "demo/?appid=x" {
		t.Fatalf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestHandlerNotBuilt(t *testing.T) {
	fsys := fstest.MapFS{".gitkeep": {Data: nil}}
	if isBuilt(fsys) {
		t.Fatal("isBuilt with only .gitkeep")
	}
	h := http.StripPrefix("/demo", newHandler(fsys))
	for _, p := range []string{"/demo/", "/demo/visitor.html", "/demo/workbench.html"} {
		rec := get(t, h, p)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", p, rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", p, got)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", p, got)
		}
		if body := rec.Body.String(); !strings.Contains(body, "not built") || !strings.Contains(body, "make run") {
			t.Errorf("%s: body %q", p, body)
		}
	}
}

// The real embedded dist: whichever state it is in, Built and Handler must agree.
func TestEmbeddedState(t *testing.T) {
	_, err := fs.Stat(assets(), "visitor.js")
	if Built() != (err == nil) {
		t.Fatalf("Built() = %v, stat visitor.js: %v", Built(), err)
	}
	rec := get(t, http.StripPrefix("/demo", Handler()), "/demo/visitor.html")
	want := http.StatusServiceUnavailable
	if Built() {
		want = http.StatusOK
	}
	if rec.Code != want {
		t.Fatalf("visitor.html: status %d, want %d", rec.Code, want)
	}
}
