package deploy

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The HAProxy file is the one compose mounts, cluster.sh runs and the chart
// ships: its routing rules are checked here as text, and by HAProxy itself
// when it is installed (deploy/cluster.sh installs it; the e2e test
// gateway/e2e/lb.test.mjs runs real traffic through it).
func TestHAProxyConfig(t *testing.T) {
	root := repoRoot(t)
	path := filepath.Join(root, "deploy", "haproxy", "haproxy.cfg")
	cfg := readFile(t, path)

	if chart := readFile(t, filepath.Join(root, "helm", "kefu", "files", "haproxy.cfg")); chart != cfg {
		t.Errorf("helm/kefu/files/haproxy.cfg differs from deploy/haproxy/haproxy.cfg: copy it (cp deploy/haproxy/haproxy.cfg helm/kefu/files/)")
	}

	for _, want := range []string{
		"acl has_sid url_param(sid) -m found",
		"force-persist if has_sid",
		"use-server %[url_param(sid),field(1,.)] if has_sid",
		"balance roundrobin",
		"cookie KEFUGW insert indirect nocache",
		"http-check send meth GET uri /readyz",
		"http-check expect status 200",
		"timeout tunnel 1h",
		"option forwardfor",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	servers := haproxyServers(t, cfg)
	if len(servers) != 16 {
		t.Errorf("haproxy.cfg has %d gateway slots, want 16 (cluster.sh and the chart count on them)", len(servers))
	}
	for i := 1; i <= len(servers); i++ {
		if servers[i] != fmt.Sprintf("gw%d", i) {
			t.Errorf("slot LB_GW%d is server %q, want gw%d", i, servers[i], i)
		}
	}

	hp, err := exec.LookPath("haproxy")
	if err != nil {
		for _, d := range []string{"/usr/sbin", "/sbin"} {
			if _, err := os.Stat(filepath.Join(d, "haproxy")); err == nil {
				hp = filepath.Join(d, "haproxy")
			}
		}
	}
	if hp == "" {
		t.Log("haproxy is not installed: its own check of the file is skipped (deploy/cluster.sh installs it)")
		return
	}
	for _, env := range [][]string{
		{"LB_GW1=127.0.0.1:18001", "LB_GW2=localhost:18002"},
		{"LB_GW1=127.0.0.1:18001", "LB_TLS_BIND=127.0.0.1:18443", "LB_TLS_CERT=" + selfSignedPEM(t)},
	} {
		cmd := exec.Command(hp, "-c", "-f", path)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "WARNING") {
			t.Errorf("haproxy -c with %v: %v\n%s", env, err, out)
		}
	}
}

// selfSignedPEM writes a throw-away certificate and key for the TLS variant.
func selfSignedPEM(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pem := filepath.Join(dir, "lb.pem")
	cmd := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
		"-keyout", filepath.Join(dir, "key.pem"), "-out", filepath.Join(dir, "cert.pem"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("openssl: %v\n%s", err, out)
	}
	b := readFile(t, filepath.Join(dir, "cert.pem")) + readFile(t, filepath.Join(dir, "key.pem"))
	if err := os.WriteFile(pem, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return pem
}

// The nginx file: every node id in the maps has its upstream, and nginx
// accepts it when installed.
func TestNginxConfig(t *testing.T) {
	root := repoRoot(t)
	path := filepath.Join(root, "deploy", "nginx", "kefu.conf")
	conf := readFile(t, path)
	for _, want := range []string{
		`map "$arg_sid:$cookie_KEFUGW" $kefu_upstream`,
		"proxy_pass http://$kefu_upstream;",
		"proxy_set_header Upgrade $http_upgrade;",
		"proxy_read_timeout 3600s;",
		"proxy_buffering off;",
		"client_max_body_size 11m;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("kefu.conf lacks %q", want)
		}
	}
	lines := regexp.MustCompile(`"~\^:?(gw\d+)[^"]*"\s+kefu_(gw\d+);`).FindAllStringSubmatch(conf, -1)
	if len(lines) < 4 {
		t.Errorf("kefu_upstream map: %d node lines, want a sid and a cookie line per gateway", len(lines))
	}
	for _, m := range lines {
		if m[1] != m[2] {
			t.Errorf("map line for %s goes to kefu_%s", m[1], m[2])
		}
		if !strings.Contains(conf, "upstream kefu_"+m[2]+" {") {
			t.Errorf("no upstream kefu_%s", m[2])
		}
	}
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			nginx = "/usr/sbin/nginx"
		}
	}
	if nginx == "" {
		t.Skip("nginx is not installed: nginx -t skipped")
	}
	dir := t.TempDir()
	main := fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[2]s;
}
`, dir, path)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

// unit reads a systemd unit: key → values, per section.
func unit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("%s: not a key=value line: %q", path, line)
				continue
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

func TestSystemdUnits(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "deploy", "systemd")
	conf := configSettings(t)
	for name, minStop := range map[string]time.Duration{
		"kefu-gateway.service":  30 * time.Second, // KEFU_DRAIN_DELAY 5 s + 15 s, and a margin
		"kefu-routing@.service": 10 * time.Second,
	} {
		u := unit(t, filepath.Join(dir, name))
		one := func(k string) string {
			if v := u[k]; len(v) > 0 {
				return v[len(v)-1]
			}
			return ""
		}
		if len(u["Service.EnvironmentFile"]) == 0 || !strings.HasPrefix(u["Service.EnvironmentFile"][0], "/etc/kefu/") {
			t.Errorf("%s: EnvironmentFile %v", name, u["Service.EnvironmentFile"])
		}
		if r := one("Service.Restart"); r != "on-failure" && r != "always" {
			t.Errorf("%s: Restart=%q", name, r)
		}
		stop, err := time.ParseDuration(one("Service.TimeoutStopSec"))
		if err != nil || stop < minStop {
			t.Errorf("%s: TimeoutStopSec=%q, want at least %v", name, one("Service.TimeoutStopSec"), minStop)
		}
		if one("Service.KillSignal") != "SIGTERM" {
			t.Errorf("%s: KillSignal=%q, want SIGTERM (the drain)", name, one("Service.KillSignal"))
		}
		for _, k := range []string{"NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "DynamicUser"} {
			if one("Service."+k) == "" {
				t.Errorf("%s: no %s", name, k)
			}
		}
		if !strings.Contains(one("Service.ExecStart"), "/gateway") && !strings.Contains(one("Service.ExecStart"), "/routing") {
			t.Errorf("%s: ExecStart=%q", name, one("Service.ExecStart"))
		}
		if one("Install.WantedBy") != "multi-user.target" {
			t.Errorf("%s: WantedBy=%q", name, one("Install.WantedBy"))
		}
	}
	// The example environment file names only real settings.
	for _, line := range strings.Split(readFile(t, filepath.Join(dir, "kefu.env.example")), "\n") {
		k, _, ok := strings.Cut(line, "=")
		if ok && !strings.HasPrefix(line, "#") && !conf.gateway[k] && !conf.routing[k] {
			t.Errorf("kefu.env.example: %s is no setting (pkg/config)", k)
		}
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		// verify complains about the absent binaries only.
		out, _ := exec.Command(sa, "verify", filepath.Join(dir, "kefu-gateway.service"), filepath.Join(dir, "kefu-routing@.service")).CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" && !strings.Contains(line, "is not executable: No such file or directory") {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
	}
}
