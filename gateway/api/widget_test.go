package api

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/pkg/protocol"
)

func pngBytes(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts a multipart upload; fields are the form's other values.
func (e *env) upload(path, token, filename string, data []byte, fields map[string]string, out any) *http.Response {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", filename)
	_, _ = fw.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp
}

func (e *env) visitor() (userid, sign string) {
	var id visitorIdentity
	e.do("POST", "/im/"+demo.AppID+"/visitor", "", "", nil, &id)
	return id.UserID, id.Sign
}

func TestUploadsAreTypedByContentAndServedSafely(t *testing.T) {
	e := newEnv(t, 30)
	userid, sign := e.visitor()
	ident := map[string]string{"userid": userid, "sign": sign}
	path := "/im/" + demo.AppID + "/upload"
	var up protocol.Upload
	if r := e.upload(path, "", "../../cat.txt", pngBytes(t), ident, &up); r.StatusCode != 201 || up.Mime != "image/png" || up.Filename != "cat.txt" {
		t.Fatalf("png named .txt: %d %+v", r.StatusCode, up)
	}
	resp, err := http.Get(e.srv.URL + up.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") || !bytes.Equal(got, pngBytes(t)) {
		t.Fatalf("served image: %d %v", resp.StatusCode, resp.Header)
	}
	var pdf protocol.Upload
	e.upload(path, "", "report.png", []byte("%PDF-1.4\n%%EOF\n"), ident, &pdf)
	resp, _ = http.Get(e.srv.URL + pdf.URL)
	resp.Body.Close()
	if pdf.Mime != "application/pdf" || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("pdf named .png: %+v %v", pdf, resp.Header)
	}
	var eb errBody
	if r := e.upload(path, "", "page.png", []byte("<html><script>alert(1)</script></html>"), ident, &eb); r.StatusCode != 400 {
		t.Fatalf("html upload: %d", r.StatusCode)
	}
	if r := e.upload(path, "", "big.png", bytes.Repeat([]byte("a"), MaxUpload+1), ident, &eb); r.StatusCode != 413 {
		t.Fatalf("oversized upload: %d", r.StatusCode)
	}
	if r := e.upload(path, "", "x.png", pngBytes(t), map[string]string{"userid": userid, "sign": "forged"}, &eb); r.StatusCode != 401 {
		t.Fatalf("forged sign: %d", r.StatusCode)
	}
	if resp, _ := http.Get(e.srv.URL + "/files/" + up.AttachmentID + "/wrongtoken"); resp.StatusCode != 404 {
		t.Fatalf("wrong capability: %d", resp.StatusCode)
	}
	// Agents upload for their own sessions only.
	agentTok := e.login("agent")
	if r := e.upload("/api/v1/uploads", agentTok, "x.png", pngBytes(t), map[string]string{"agentserviceid": "nope"}, &eb); r.StatusCode != 404 {
		t.Fatalf("agent upload to no session: %d", r.StatusCode)
	}
}

func TestLeaveMessageConfigAndBlacklist(t *testing.T) {
	e := newEnv(t, 30)
	userid, sign := e.visitor()
	leave := "/im/" + demo.AppID + "/leavemsg"
	var eb errBody
	for _, bad := range []map[string]any{
		{"userid": userid, "sign": sign, "content": "hi"},                                    // no contact
		{"userid": userid, "sign": sign, "content": "", "email": "a@b.c"},                    // no content
		{"userid": userid, "sign": sign, "content": "hi", "email": "nope"},                   // not an email
		{"userid": userid, "sign": "forged", "content": "hi", "email": "a@b.c"},              // forged
		{"userid": userid, "sign": sign, "content": strings.Repeat("x", 2001), "phone": "1"}, // too long
	} {
		if r := e.do("POST", leave, "", "", bad, &eb); r.StatusCode != 400 && r.StatusCode != 401 {
			t.Fatalf("%v: %d", bad, r.StatusCode)
		}
	}
	var created map[string]string
	if r := e.do("POST", leave, "", "", map[string]any{"userid": userid, "sign": sign, "name": "Li", "email": "li@example.com", "content": "call me"}, &created); r.StatusCode != 201 || created["id"] == "" {
		t.Fatalf("leave message: %d %v", r.StatusCode, created)
	}

	config := func() map[string]any {
		var out map[string]any
		if r := e.do("GET", "/im/"+demo.AppID+"/config?userid="+userid+"&sign="+sign, "", "", nil, &out); r.StatusCode != 200 {
			t.Fatalf("config: %d", r.StatusCode)
		}
		return out
	}
	if c := config(); c["blocked"] != false || c["open"] != true || c["agents"] != false || c["appid"] != demo.AppID {
		t.Fatalf("config: %v", c)
	}
	agentTok := e.login("agent")
	if r := e.do("POST", "/api/v1/blacklist", agentTok, "", map[string]any{"appid": demo.AppID, "userid": userid, "hours": 0}, &eb); r.StatusCode != 400 {
		t.Fatalf("0 hours: %d", r.StatusCode)
	}
	if r := e.do("POST", "/api/v1/blacklist", agentTok, "", map[string]any{"appid": demo.AppID, "userid": userid, "hours": 2, "reason": "spam"}, nil); r.StatusCode != 201 {
		t.Fatalf("block: %d", r.StatusCode)
	}
	if c := config(); c["blocked"] != true || c["blockeduntil"] == nil {
		t.Fatalf("config when blocked: %v", c)
	}
	if r := e.do("POST", "/im/"+demo.AppID+"/visitor", "", "", map[string]string{"userid": userid, "sign": sign}, &eb); r.StatusCode != 403 {
		t.Fatalf("blocked identity: %d", r.StatusCode)
	}
	var list protocol.BlacklistPage
	if e.do("GET", "/api/v1/blacklist", agentTok, "", nil, &list); len(list.Items) != 1 || list.Items[0].UserID != userid {
		t.Fatalf("blacklist: %+v", list)
	}
	if r := e.do("DELETE", "/api/v1/blacklist/"+demo.AppID+"/"+userid, agentTok, "", nil, nil); r.StatusCode != 204 {
		t.Fatalf("unblock: %d", r.StatusCode)
	}
	if c := config(); c["blocked"] != false {
		t.Fatalf("config after unblock: %v", c)
	}
	if r := e.do("GET", "/im/nope/config", "", "", nil, &eb); r.StatusCode != 404 {
		t.Fatalf("unknown site: %d", r.StatusCode)
	}
}

func TestWidgetConfigIsValidated(t *testing.T) {
	e := newEnv(t, 30)
	admin := e.login("admin")
	site := func(config string) int {
		var eb errBody
		return e.do("PUT", "/api/v1/admin/sites/"+demo.AppID, admin, "", map[string]any{
			"name": "Demo", "origins": []string{"*"}, "config": json.RawMessage(config),
		}, &eb).StatusCode
	}
	for _, bad := range []string{
		`{"button": {"shape": "star"}}`, `{"button": {"color": "red;}body{display:none"}}`, `{"button": {"delay": -1}}`,
		`{"theme": {"logo": "javascript:alert(1)"}}`, `{"prechat": {"fields": [{"name": "password"}]}}`,
		`{"invite": {"auto": 99999}}`, `{"lang": "fr"}`, `{"uploads": {"maxsize": 99999999}}`, `{"button": "big"}`,
	} {
		if code := site(bad); code != 400 {
			t.Errorf("%s accepted: %d", bad, code)
		}
	}
	good := `{"button": {"shape": "circle", "color": "#3a8ee6", "position": "left", "text": "Chat", "delay": 2},
		"theme": {"color": "rgb(58, 142, 230)", "logo": "https://cdn.example/logo.png"}, "welcome": "Hello!",
		"prechat": {"enabled": true, "fields": [{"name": "name", "required": true}, {"name": "email"}]},
		"invite": {"auto": 30, "message": "Need help?"}, "sneakpeek": true, "lang": "en", "uploads": {"maxsize": 1048576},
		"future": {"kept": true}}`
	if code := site(good); code != 200 {
		t.Fatalf("good config refused: %d", code)
	}
}
