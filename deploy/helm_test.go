package deploy

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm returns a helm binary: $KEFU_HELM, or helm built from this module's
// tool dependency (helm.sh/helm/v3/cmd/helm, pinned in go.mod) into a
// temporary directory. The Go build cache makes later builds quick.
func helm(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("KEFU_HELM"); p != "" {
			helmPath = p
			return
		}
		dir, err := os.MkdirTemp("", "kefu-helm-")
		if err != nil {
			helmErr = err
			return
		}
		helmPath = filepath.Join(dir, "helm")
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", helmPath, "helm.sh/helm/v3/cmd/helm")
		if out, err := cmd.CombinedOutput(); err != nil {
			helmErr = fmt.Errorf("go build helm: %v\n%s", err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "deploy: built helm in %s\n", time.Since(start).Round(time.Second))
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helmPath != "" && os.Getenv("KEFU_HELM") == "" {
		os.RemoveAll(filepath.Dir(helmPath))
	}
	os.Exit(code)
}

func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// No repositories, no plugins, no cache of the user's.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("helm %s: %v\n%s%s", strings.Join(args, " "), err, errb.String(), out.String())
	}
	return out.String(), nil
}

// manifest is one rendered object.
type manifest map[string]any

// get walks a path of map keys and list indexes ("spec.template.spec.containers.0.name").
func (m manifest) get(path string) any {
	var cur any = map[string]any(m)
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			var i int
			if _, err := fmt.Sscanf(k, "%d", &i); err != nil || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func (m manifest) str(path string) string {
	v := m.get(path)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

type rendered []manifest

func (r rendered) find(kind, name string) manifest {
	for _, m := range r {
		if m.str("kind") == kind && m.str("metadata.name") == name {
			return m
		}
	}
	return nil
}

func (r rendered) kinds() []string {
	var out []string
	for _, m := range r {
		out = append(out, m.str("kind")+"/"+m.str("metadata.name"))
	}
	return out
}

func chartDir(t *testing.T) string { return filepath.Join(repoRoot(t), "helm", "kefu") }

// render runs helm template with --set flags; the release is "r1".
func render(t *testing.T, sets ...string) rendered {
	t.Helper()
	args := []string{"template", "r1", chartDir(t), "--namespace", "chat"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var r rendered
	for _, doc := range strings.Split(out, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var m manifest
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if m != nil {
			r = append(r, m)
		}
	}
	return r
}

func container(t *testing.T, m manifest) manifest {
	t.Helper()
	c, ok := m.get("spec.template.spec.containers.0").(map[string]any)
	if !ok {
		t.Fatalf("%s/%s has no container", m.str("kind"), m.str("metadata.name"))
	}
	return manifest(c)
}

func envValue(c manifest, name string) (string, bool) {
	list, _ := c.get("env").([]any)
	for _, e := range list {
		em := manifest(e.(map[string]any))
		if em.str("name") == name {
			return em.str("value"), true
		}
	}
	return "", false
}

var nodeIDRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// nodeIDOf runs a gateway container's start script as the pod `pod` would
// (Kubernetes turns $$ into $), with `exec gateway` replaced by printing
// the node id, and checks it is one the gateway accepts.
func nodeIDOf(t *testing.T, c manifest, pod string) string {
	t.Helper()
	if c.str("command.0") != "/bin/sh" || c.str("command.1") != "-c" {
		t.Fatalf("gateway command %v: want /bin/sh -c SCRIPT", c.get("command"))
	}
	script := strings.ReplaceAll(c.str("args.0"), "$$", "$")
	if !strings.Contains(script, "exec gateway") {
		t.Fatalf("the script does not exec the gateway:\n%s", script)
	}
	script = strings.Replace(script, "exec gateway", `printf '%s' "$KEFU_NODE_ID"`, 1)
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"POD_NAME=" + pod, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node id script: %v\n%s", err, script)
	}
	if !nodeIDRE.Match(out) {
		t.Errorf("pod %s gets node id %q, which the gateway refuses ([a-z0-9-]{1,32})", pod, out)
	}
	return string(out)
}

func TestHelmLint(t *testing.T) {
	for _, sets := range [][]string{
		nil,
		{"haproxy.enabled=true"},
		{"mysql.bundled=false", "mysql.external.dsn=kefu:pw@tcp(db:3306)/kefu", "redis.bundled=false", "redis.external.url=redis://cache:6379/0", "ingress.enabled=false"},
	} {
		args := []string{"lint", "--strict", chartDir(t)}
		for _, s := range sets {
			args = append(args, "--set", s)
		}
		if out, err := runHelm(t, args...); err != nil {
			t.Errorf("%v", err)
		} else if !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm lint %v:\n%s", sets, out)
		}
	}
}

func TestHelmTemplate(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		r := render(t)
		gw := r.find("Deployment", "r1-kefu-gateway")
		if gw == nil {
			t.Fatalf("no gateway Deployment in %v", r.kinds())
		}
		c := container(t, gw)
		if c.str("readinessProbe.httpGet.path") != "/readyz" || c.str("livenessProbe.httpGet.path") != "/healthz" {
			t.Errorf("gateway probes: readiness %v, liveness %v", c.get("readinessProbe"), c.get("livenessProbe"))
		}
		if got := gw.str("spec.template.spec.terminationGracePeriodSeconds"); got != "30" {
			t.Errorf("gateway terminationGracePeriodSeconds %s, want 30 (5 s drain + 15 s + 10 s margin)", got)
		}
		for pod, want := range map[string]string{
			"r1-kefu-gateway-7d9c8b6f5d-x2x9z":                    "r1-kefu-gateway-7d9c8b6f5d-x2x9z",
			"a-much-longer-release-kefu-gateway-7d9c8b6f5d-x2x9z": "se-kefu-gateway-7d9c8b6f5d-x2x9z", // the last 32
			"my.kefu-gateway-7d9c8b6f5d-x2x9z":                    "mykefu-gateway-7d9c8b6f5d-x2x9z",
		} {
			if got := nodeIDOf(t, c, pod); got != want {
				t.Errorf("pod %s: node id %q, want %q", pod, got, want)
			}
		}
		if env, _ := c.get("env.0").(map[string]any); manifest(env).str("valueFrom.fieldRef.fieldPath") != "metadata.name" {
			t.Errorf("gateway POD_NAME must come from the downward API: %v", c.get("env"))
		}

		rt := r.find("Deployment", "r1-kefu-routing")
		if rt == nil {
			t.Fatalf("no routing Deployment in %v", r.kinds())
		}
		if got := rt.str("spec.replicas"); got != "2" {
			t.Errorf("routing replicas %s, want 2", got)
		}
		rc := container(t, rt)
		if rc.str("readinessProbe.httpGet.path") != "/readyz" || rc.str("livenessProbe.httpGet.path") != "/healthz" {
			t.Errorf("routing probes: %v %v", rc.get("readinessProbe"), rc.get("livenessProbe"))
		}

		hpa := r.find("HorizontalPodAutoscaler", "r1-kefu-gateway")
		if hpa == nil || hpa.str("spec.scaleTargetRef.kind") != "Deployment" || hpa.str("spec.scaleTargetRef.name") != "r1-kefu-gateway" ||
			hpa.str("spec.minReplicas") != "2" || hpa.str("spec.maxReplicas") != "10" {
			t.Errorf("gateway HPA: %v", hpa)
		}
		if pdb := r.find("PodDisruptionBudget", "r1-kefu-gateway"); pdb == nil {
			t.Errorf("no gateway PodDisruptionBudget: %v", r.kinds())
		} else if sel, _ := pdb.get("spec.selector.matchLabels").(map[string]any); sel["app.kubernetes.io/component"] != "gateway" || pdb.str("spec.maxUnavailable") != "1" {
			t.Errorf("gateway PodDisruptionBudget: %v", pdb.get("spec"))
		}
		if r.find("PodDisruptionBudget", "r1-kefu-routing") == nil {
			t.Errorf("no routing PodDisruptionBudget: %v", r.kinds())
		}
		ing := r.find("Ingress", "r1-kefu")
		if ing == nil {
			t.Fatalf("no Ingress: %v", r.kinds())
		}
		ann, _ := ing.get("metadata.annotations").(map[string]any)
		for k, want := range map[string]string{
			"nginx.ingress.kubernetes.io/affinity":            "cookie",
			"nginx.ingress.kubernetes.io/proxy-read-timeout":  "3600",
			"nginx.ingress.kubernetes.io/proxy-send-timeout":  "3600",
			"nginx.ingress.kubernetes.io/session-cookie-name": "KEFUGW",
		} {
			if fmt.Sprint(ann[k]) != want {
				t.Errorf("Ingress annotation %s = %v, want %s", k, ann[k], want)
			}
		}
		if got := ing.str("spec.rules.0.http.paths.0.backend.service.name"); got != "r1-kefu-gateway" {
			t.Errorf("Ingress backend %s, want the gateway Service", got)
		}

		cm := r.find("ConfigMap", "r1-kefu")
		if cm == nil || cm.str("data.KEFU_DRAIN_DELAY") != "5s" || cm.str("data.KEFU_ROUTING") != "external" || cm.str("data.KEFU_PUBLIC_URL") != "http://kefu.example.com" {
			t.Errorf("ConfigMap: %v", cm)
		}
		conf := configSettings(t)
		for k := range cm.get("data").(map[string]any) {
			if !conf.gateway[k] && !conf.routing[k] {
				t.Errorf("ConfigMap sets %s, which no process reads (pkg/config)", k)
			}
		}
		sec := r.find("Secret", "r1-kefu")
		if sec == nil {
			t.Fatalf("no Secret: %v", r.kinds())
		}
		for k, check := range map[string]func(string) bool{
			"KEFU_SECRET":    func(v string) bool { return len(v) >= 32 },
			"KEFU_MYSQL_DSN": func(v string) bool { return strings.Contains(v, "@tcp(r1-kefu-mysql:3306)/kefu") },
			"KEFU_REDIS_URL": func(v string) bool { return v == "redis://r1-kefu-redis:6379/0" },
		} {
			b, err := base64.StdEncoding.DecodeString(sec.str("data." + k))
			if err != nil || !check(string(b)) {
				t.Errorf("Secret %s = %q (%v)", k, b, err)
			}
		}
		for _, name := range []string{"r1-kefu-mysql", "r1-kefu-redis"} {
			if r.find("StatefulSet", name) == nil || r.find("Service", name) == nil {
				t.Errorf("bundled %s: no StatefulSet and Service in %v", name, r.kinds())
			}
		}
		if r.find("Deployment", "r1-kefu-lb") != nil {
			t.Errorf("HAProxy rendered while haproxy.enabled is false")
		}
	})

	t.Run("grace period follows the drain", func(t *testing.T) {
		r := render(t, "gateway.drain.delaySeconds=20")
		gw := r.find("Deployment", "r1-kefu-gateway")
		if got := gw.str("spec.template.spec.terminationGracePeriodSeconds"); got != "45" {
			t.Errorf("terminationGracePeriodSeconds %s, want 45 (20 + 15 + 10)", got)
		}
		if got := r.find("ConfigMap", "r1-kefu").str("data.KEFU_DRAIN_DELAY"); got != "20s" {
			t.Errorf("KEFU_DRAIN_DELAY %s, want 20s", got)
		}
	})

	t.Run("bundled HAProxy routes on the sid", func(t *testing.T) {
		r := render(t, "haproxy.enabled=true", "gateway.autoscaling.maxReplicas=4")
		gw := r.find("StatefulSet", "r1-kefu-gateway")
		if gw == nil {
			t.Fatalf("the gateways must run as a StatefulSet with HAProxy: %v", r.kinds())
		}
		for pod, want := range map[string]string{"r1-kefu-gateway-0": "gw1", "r1-kefu-gateway-12": "gw13"} {
			if got := nodeIDOf(t, container(t, gw), pod); got != want {
				t.Errorf("pod %s: node id %q, want %q (haproxy.cfg's server names)", pod, got, want)
			}
		}
		if hpa := r.find("HorizontalPodAutoscaler", "r1-kefu-gateway"); hpa.str("spec.scaleTargetRef.kind") != "StatefulSet" {
			t.Errorf("HPA must scale the StatefulSet: %v", hpa.get("spec.scaleTargetRef"))
		}
		headless := r.find("Service", "r1-kefu-gateway-headless")
		if headless == nil || headless.str("spec.clusterIP") != "None" || headless.str("spec.publishNotReadyAddresses") != "true" {
			t.Errorf("headless Service: %v", headless)
		}
		cm := r.find("ConfigMap", "r1-kefu-haproxy")
		cfg := readFile(t, filepath.Join(repoRoot(t), "deploy", "haproxy", "haproxy.cfg"))
		if cm == nil {
			t.Fatalf("no HAProxy ConfigMap: %v", r.kinds())
		}
		if data, _ := cm.get("data").(map[string]any); strings.TrimSpace(fmt.Sprint(data["haproxy.cfg"])) != strings.TrimSpace(cfg) {
			t.Errorf("the HAProxy ConfigMap must hold deploy/haproxy/haproxy.cfg unchanged")
		}
		lb := r.find("Deployment", "r1-kefu-lb")
		if lb == nil {
			t.Fatalf("no HAProxy Deployment: %v", r.kinds())
		}
		lc := container(t, lb)
		for i := 1; i <= 4; i++ {
			want := fmt.Sprintf("r1-kefu-gateway-%d.r1-kefu-gateway-headless.chat.svc.cluster.local:8080", i-1)
			if got, _ := envValue(lc, fmt.Sprintf("LB_GW%d", i)); got != want {
				t.Errorf("LB_GW%d = %q, want %q", i, got, want)
			}
		}
		if _, ok := envValue(lc, "LB_GW5"); ok {
			t.Errorf("LB_GW5 set with at most 4 gateways")
		}
		ing := r.find("Ingress", "r1-kefu")
		if got := ing.str("spec.rules.0.http.paths.0.backend.service.name"); got != "r1-kefu-lb" {
			t.Errorf("Ingress backend %s, want the HAProxy Service", got)
		}
		if ann, _ := ing.get("metadata.annotations").(map[string]any); ann["nginx.ingress.kubernetes.io/affinity"] != nil {
			t.Errorf("no cookie affinity in front of HAProxy: %v", ann)
		}
	})

	t.Run("external servers", func(t *testing.T) {
		r := render(t, "mysql.bundled=false", "mysql.external.dsn=kefu:pw@tcp(db:3306)/kefu", "redis.bundled=false", "redis.external.url=redis://cache:6379/0")
		if r.find("StatefulSet", "r1-kefu-mysql") != nil || r.find("StatefulSet", "r1-kefu-redis") != nil {
			t.Errorf("bundled servers rendered: %v", r.kinds())
		}
		b, _ := base64.StdEncoding.DecodeString(r.find("Secret", "r1-kefu").str("data.KEFU_MYSQL_DSN"))
		if string(b) != "kefu:pw@tcp(db:3306)/kefu" {
			t.Errorf("KEFU_MYSQL_DSN %q", b)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, sets := range [][]string{
			{"routing.replicas=1"},
			{"secrets.visitorSecret=short"},
			{"haproxy.enabled=true", "gateway.autoscaling.maxReplicas=17"},
			{"mysql.bundled=false"},
			{"config.OTHER=1"},
		} {
			args := []string{"template", "r1", chartDir(t)}
			for _, s := range sets {
				args = append(args, "--set", s)
			}
			if _, err := runHelm(t, args...); err == nil {
				t.Errorf("helm template %v must fail", sets)
			}
		}
	})
}
