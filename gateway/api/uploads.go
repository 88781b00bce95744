package api

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/kefu-im/kefu/gateway/api/request"
	"github.com/kefu-im/kefu/pkg/protocol"
	"github.com/kefu-im/kefu/pkg/store"
)

// MaxUpload is the largest upload (and the ceiling of a site's maxsize).
const MaxUpload = 10 << 20

// uploadLimits are a site's upload settings (its config's "uploads").
type uploadLimits struct {
	Images  *bool `json:"images"`
	Files   *bool `json:"files"`
	MaxSize int64 `json:"maxsize"`
}

func siteUploads(site store.Site) uploadLimits {
	var cfg struct {
		Uploads uploadLimits `json:"uploads"`
	}
	_ = json.Unmarshal([]byte(site.Config), &cfg) // a malformed config means defaults
	u := cfg.Uploads
	if u.MaxSize <= 0 || u.MaxSize > MaxUpload {
		u.MaxSize = MaxUpload
	}
	return u
}

// visitorUpload stores a visitor's image or file.
func (a *API) visitorUpload(c echo.Context) error {
	site, err := a.openSite(c, c.Param("appid"))
	if err != nil {
		return err
	}
	limits := siteUploads(site)
	data, name, err := readUpload(c, limits.MaxSize)
	if err != nil {
		return err
	}
	userID := c.FormValue("userid")
	if !a.Signer.Verify(site.AppID, userID, c.FormValue("sign")) {
		return protocol.Errorf(protocol.CodeUnauthorized, "missing or invalid visitor signature")
	}
	mt, err := sniff(data)
	if err != nil {
		return err
	}
	if (store.IsImage(mt) && limits.Images != nil && !*limits.Images) || (!store.IsImage(mt) && limits.Files != nil && !*limits.Files) {
		return protocol.Errorf(protocol.CodeForbidden, "this site does not accept %s uploads", mt)
	}
	att := store.Attachment{Orgi: site.Orgi, AppID: site.AppID, Owner: userID, OwnerKind: store.OwnerVisitor, Filename: name, Mime: mt, Size: int64(len(data)), Data: data}
	return a.saveUpload(c, &att)
}

// agentUpload stores an agent's image or file for one of its sessions.
func (a *API) agentUpload(c echo.Context) error {
	p := request.Principal(c)
	sess, err := a.Store.GetSession(c.Request().Context(), c.FormValue("agentserviceid"))
	if err != nil || sess.Orgi != p.Agent.Orgi {
		return protocol.Errorf(protocol.CodeNotFound, "session not found")
	}
	if sess.AgentNo != p.Agent.ID || sess.Status != protocol.SessionInService {
		return protocol.Errorf(protocol.CodeForbidden, "only the session's current agent may send into it")
	}
	data, name, err := readUpload(c, MaxUpload)
	if err != nil {
		return err
	}
	mt, err := sniff(data)
	if err != nil {
		return err
	}
	att := store.Attachment{Orgi: sess.Orgi, AppID: sess.AppID, Owner: p.Agent.ID, OwnerKind: store.OwnerAgent, SessionID: sess.ID, Filename: name, Mime: mt, Size: int64(len(data)), Data: data}
	return a.saveUpload(c, &att)
}

func (a *API) saveUpload(c echo.Context, att *store.Attachment) error {
	if err := a.Blobs.PutAttachment(c.Request().Context(), att); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, protocol.Upload{AttachmentID: att.ID, URL: att.URL(), Filename: att.Filename, Filesize: att.Size, Mime: att.Mime})
}

// readUpload reads the multipart field "file", refusing more than limit
// bytes, and returns its bytes and a safe display name.
func readUpload(c echo.Context, limit int64) ([]byte, string, error) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, limit+64<<10) // room for the form's other fields
	fh, err := c.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, "", protocol.Errorf(protocol.CodeTooLarge, "the file is larger than %d bytes", limit)
	case err != nil:
		return nil, "", protocol.Errorf(protocol.CodeBadRequest, "send the file as the multipart field \"file\"")
	}
	if fh.Size > limit {
		return nil, "", protocol.Errorf(protocol.CodeTooLarge, "the file is larger than %d bytes", limit)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, "", err
	}
	if int64(len(data)) > limit {
		return nil, "", protocol.Errorf(protocol.CodeTooLarge, "the file is larger than %d bytes", limit)
	}
	if len(data) == 0 {
		return nil, "", protocol.Errorf(protocol.CodeBadRequest, "the file is empty")
	}
	return data, displayName(fh.Filename), nil
}

// displayName keeps a file name's base, printable, at most 255 bytes.
func displayName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' {
			return -1
		}
		return r
	}, name)
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." {
		name = "file"
	}
	return name
}

// sniff reads the type from the content, never the name, and allows only
// the types the contract lists.
func sniff(data []byte) (string, error) {
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	if store.IsImage(mt) || slices.Contains(store.FileTypes, mt) {
		return mt, nil
	}
	return "", protocol.Errorf(protocol.CodeBadRequest, "files of type %s are not accepted (images: %s; files: %s)",
		mt, strings.Join(store.ImageTypes, ", "), strings.Join(store.FileTypes, ", "))
}

// serveFile serves an attachment to whoever holds its capability URL, in a
// way no browser will run: images as images, anything else as a download.
func (a *API) serveFile(c echo.Context) error {
	att, err := a.Blobs.GetAttachment(c.Request().Context(), c.Param("id"), true)
	if errors.Is(err, store.ErrNotFound) || (err == nil && subtle.ConstantTimeCompare([]byte(att.Token), []byte(c.Param("token"))) != 1) {
		return protocol.Errorf(protocol.CodeNotFound, "not found")
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	h.Set("Content-Length", strconv.FormatInt(att.Size, 10))
	ctype := att.Mime
	if !store.IsImage(att.Mime) {
		ctype = "application/octet-stream"
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": att.Filename}))
	}
	return c.Blob(http.StatusOK, ctype, att.Data)
}
