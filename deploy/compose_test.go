package deploy

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yml as `docker compose` does (same
// loader, interpolation, validation), with only the given variables set.
func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
	root := repoRoot(t)
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

func envOf(s types.ServiceConfig) map[string]string {
	out := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

// kefuServices splits the services running Kefu's image into gateways and
// routing replicas (entrypoint `routing`).
func kefuServices(t *testing.T, p *types.Project) (gateways, routings []types.ServiceConfig) {
	t.Helper()
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Build == nil || s.Build.Dockerfile != "deploy/docker/Dockerfile" {
			continue
		}
		if len(s.Entrypoint) > 0 && s.Entrypoint[0] == "routing" {
			routings = append(routings, s)
		} else {
			gateways = append(gateways, s)
		}
	}
	return gateways, routings
}

func healthTest(s types.ServiceConfig) string {
	if s.HealthCheck == nil || s.HealthCheck.Disable {
		return ""
	}
	return strings.Join(s.HealthCheck.Test, " ")
}

func TestComposeFile(t *testing.T) {
	p := loadCompose(t)
	conf := configSettings(t)
	gateways, routings := kefuServices(t, p)
	root := repoRoot(t)

	t.Run("servers", func(t *testing.T) {
		for name, image := range map[string]string{"mysql": "mysql:8", "redis": "redis:7"} {
			s, err := p.GetService(name)
			if err != nil {
				t.Fatalf("no %s service: %v", name, err)
			}
			if !strings.HasPrefix(s.Image, image) {
				t.Errorf("%s: image %q, want %s", name, s.Image, image)
			}
		}
	})

	t.Run("two routing replicas", func(t *testing.T) {
		if len(routings) != 2 {
			t.Fatalf("routing replicas: %d, want 2", len(routings))
		}
		ids := map[string]bool{}
		for _, s := range routings {
			id := envOf(s)["KEFU_NODE_ID"]
			if id == "" || ids[id] {
				t.Errorf("%s: KEFU_NODE_ID %q empty or not unique", s.Name, id)
			}
			ids[id] = true
		}
	})

	t.Run("two gateways, distinct node ids, one secret", func(t *testing.T) {
		if len(gateways) != 2 {
			t.Fatalf("gateways: %d, want 2", len(gateways))
		}
		ids := map[string]string{}
		secrets := map[string]bool{}
		nodeID := regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
		for _, s := range gateways {
			e := envOf(s)
			id := e["KEFU_NODE_ID"]
			if !nodeID.MatchString(id) {
				t.Errorf("%s: KEFU_NODE_ID %q must match [a-z0-9-]{1,32}", s.Name, id)
			}
			if other, dup := ids[id]; dup {
				t.Errorf("%s and %s share node id %q", s.Name, other, id)
			}
			ids[id] = s.Name
			secrets[e["KEFU_SECRET"]] = true
			if len(e["KEFU_SECRET"]) < 32 {
				t.Errorf("%s: KEFU_SECRET has %d characters, want 32+", s.Name, len(e["KEFU_SECRET"]))
			}
			if e["KEFU_ROUTING"] != "external" {
				t.Errorf("%s: KEFU_ROUTING %q, want external (the routing services route)", s.Name, e["KEFU_ROUTING"])
			}
			if len(s.Ports) != 0 {
				t.Errorf("%s publishes ports %v: browsers must go through the load balancer", s.Name, s.Ports)
			}
		}
		if len(secrets) != 1 {
			t.Errorf("gateways have %d different KEFU_SECRET values, want one", len(secrets))
		}
		// And when the operator sets it, as the header says.
		mine := strings.Repeat("s3cr3t-", 6)
		for _, s := range func() []types.ServiceConfig { g, _ := kefuServices(t, loadCompose(t, "KEFU_SECRET="+mine)); return g }() {
			if got := envOf(s)["KEFU_SECRET"]; got != mine {
				t.Errorf("%s: KEFU_SECRET %q with KEFU_SECRET set, want %q", s.Name, got, mine)
			}
		}
	})

	t.Run("every KEFU_ variable is a setting of its process", func(t *testing.T) {
		check := func(s types.ServiceConfig, known map[string]bool, what string) {
			for k := range envOf(s) {
				if strings.HasPrefix(k, "KEFU_") && !known[k] {
					t.Errorf("%s: %s is not a %s setting (pkg/config)", s.Name, k, what)
				}
			}
		}
		for _, s := range gateways {
			check(s, conf.gateway, "gateway")
		}
		for _, s := range routings {
			check(s, conf.routing, "routing")
		}
		for _, name := range p.ServiceNames() {
			s := p.Services[name]
			if s.Build == nil {
				for k := range envOf(s) {
					if strings.HasPrefix(k, "KEFU_") {
						t.Errorf("%s is not a Kefu process but sets %s", name, k)
					}
				}
			}
		}
	})

	t.Run("kefu processes reach the servers", func(t *testing.T) {
		for _, s := range append(append([]types.ServiceConfig{}, gateways...), routings...) {
			e := envOf(s)
			if !strings.HasPrefix(e["KEFU_REDIS_URL"], "redis://redis:") {
				t.Errorf("%s: KEFU_REDIS_URL %q", s.Name, e["KEFU_REDIS_URL"])
			}
			if !strings.Contains(e["KEFU_MYSQL_DSN"], "@tcp(mysql:3306)/") {
				t.Errorf("%s: KEFU_MYSQL_DSN %q", s.Name, e["KEFU_MYSQL_DSN"])
			}
			for _, dep := range []string{"mysql", "redis"} {
				if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
					t.Errorf("%s must depend on %s being healthy", s.Name, dep)
				}
			}
		}
	})

	t.Run("health checks", func(t *testing.T) {
		for _, name := range p.ServiceNames() {
			if healthTest(p.Services[name]) == "" {
				t.Errorf("%s has no health check", name)
			}
		}
		for _, s := range append(append([]types.ServiceConfig{}, gateways...), routings...) {
			if h := healthTest(s); !strings.Contains(h, "/readyz") {
				t.Errorf("%s: health check %q does not ask /readyz", s.Name, h)
			}
		}
	})

	t.Run("gateways have time to drain", func(t *testing.T) {
		for _, s := range gateways {
			drain := 5 * time.Second
			if v := envOf(s)["KEFU_DRAIN_DELAY"]; v != "" {
				d, err := time.ParseDuration(v)
				if err != nil {
					t.Fatalf("%s: KEFU_DRAIN_DELAY %q: %v", s.Name, v, err)
				}
				drain = d
			}
			want := drain + 15*time.Second
			if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) < want {
				t.Errorf("%s: stop_grace_period %v, want at least %v (the drain, then 15 s)", s.Name, s.StopGracePeriod, want)
			}
		}
	})

	t.Run("load balancer", func(t *testing.T) {
		lb, err := p.GetService("lb")
		if err != nil {
			t.Fatalf("no lb service: %v", err)
		}
		if !strings.HasPrefix(lb.Image, "haproxy:") {
			t.Errorf("lb image %q, want haproxy", lb.Image)
		}
		published := false
		for _, port := range lb.Ports {
			if port.Target == 8080 && port.Published == "8080" && port.HostIP == "" {
				published = true
			}
		}
		if !published {
			t.Errorf("lb must publish 8080:8080: %+v", lb.Ports)
		}
		cfgPath := filepath.Join(root, "deploy", "haproxy", "haproxy.cfg")
		mounted := false
		for _, v := range lb.Volumes {
			if v.Type == types.VolumeTypeBind && filepath.Clean(v.Source) == cfgPath && v.Target == "/usr/local/etc/haproxy/haproxy.cfg" {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("lb must mount %s at /usr/local/etc/haproxy/haproxy.cfg: %+v", cfgPath, lb.Volumes)
		}
		servers := haproxyServers(t, readFile(t, cfgPath))
		lbEnv := envOf(lb)
		if lbEnv["LB_BIND"] != ":8080" {
			t.Errorf("LB_BIND %q, want :8080", lbEnv["LB_BIND"])
		}
		for _, s := range gateways {
			if d, ok := lb.DependsOn[s.Name]; !ok || d.Condition != types.ServiceConditionHealthy {
				t.Errorf("lb must depend on %s being healthy", s.Name)
			}
			// The gateway's node id must be the name of the server
			// whose slot points at it, or sids would not route.
			e := envOf(s)
			slot := 0
			for i, name := range servers {
				if name == e["KEFU_NODE_ID"] {
					slot = i
				}
			}
			if slot == 0 {
				t.Errorf("%s: node id %q is no server name in haproxy.cfg", s.Name, e["KEFU_NODE_ID"])
				continue
			}
			_, port, err := net.SplitHostPort(e["KEFU_ADDR"])
			if err != nil {
				port = "8080"
			}
			if got, want := lbEnv[fmt.Sprintf("LB_GW%d", slot)], s.Name+":"+port; got != want {
				t.Errorf("LB_GW%d = %q, want %q (server %s is %s)", slot, got, want, servers[slot], s.Name)
			}
		}
		for k := range lbEnv {
			if strings.HasPrefix(k, "LB_GW") {
				n := 0
				fmt.Sscanf(k, "LB_GW%d", &n)
				found := false
				for _, s := range gateways {
					found = found || envOf(s)["KEFU_NODE_ID"] == servers[n]
				}
				if !found {
					t.Errorf("lb sets %s, but no gateway has node id %q", k, servers[n])
				}
			}
		}
		for _, s := range gateways {
			if got := envOf(s)["KEFU_PUBLIC_URL"]; got != "http://localhost:8080" {
				t.Errorf("%s: KEFU_PUBLIC_URL %q, want the load balancer's http://localhost:8080", s.Name, got)
			}
		}
	})

	t.Run("in step with deploy/cluster.sh", func(t *testing.T) {
		script := readFile(t, filepath.Join(root, "deploy", "cluster.sh"))
		for _, want := range []string{`HAPROXY_CFG="$ROOT/deploy/haproxy/haproxy.cfg"`, `id="gw$i"`, `id="rt$i"`, `lbenv+=("LB_GW$i=`} {
			if !strings.Contains(script, want) {
				t.Errorf("deploy/cluster.sh no longer has %s: keep it and docker-compose.yml in step", want)
			}
		}
		for _, s := range gateways {
			if !regexp.MustCompile(`^gw[0-9]+$`).MatchString(envOf(s)["KEFU_NODE_ID"]) {
				t.Errorf("%s: node id %q; the local cluster names gateways gw1..gwN", s.Name, envOf(s)["KEFU_NODE_ID"])
			}
		}
	})
}
