package config

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestGatewayDefaultsAreSingleBinary(t *testing.T) {
	g, err := LoadGateway(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if g.Cluster() || g.Routing != "embedded" || g.Addr != ":8080" || g.PublicURL != "http://localhost:8080" || !g.SeedDemo {
		t.Fatalf("unexpected defaults: %+v", g)
	}
	if !nodeIDPattern.MatchString(g.NodeID) {
		t.Fatalf("default node id %q is not usable", g.NodeID)
	}
}

func TestFlagBeatsEnvBeatsDefault(t *testing.T) {
	g, err := LoadGateway([]string{"--addr", "127.0.0.1:9000"}, env(map[string]string{"KEFU_ADDR": ":7000", "KEFU_NODE_ID": "gw-2"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if g.Addr != "127.0.0.1:9000" || g.NodeID != "gw-2" || g.PublicURL != "http://127.0.0.1:9000" {
		t.Fatalf("got %+v", g)
	}
}

func TestClusterNeedsSecretAndMySQL(t *testing.T) {
	base := map[string]string{"KEFU_REDIS_URL": "redis://127.0.0.1:6379/0"}
	if _, err := LoadGateway(nil, env(base), io.Discard); err == nil || !strings.Contains(err.Error(), "KEFU_SECRET") {
		t.Fatalf("missing secret accepted: %v", err)
	}
	base["KEFU_SECRET"] = strings.Repeat("s", 32)
	if _, err := LoadGateway(nil, env(base), io.Discard); err == nil || !strings.Contains(err.Error(), "KEFU_MYSQL_DSN") {
		t.Fatalf("missing DSN accepted: %v", err)
	}
	base["KEFU_MYSQL_DSN"] = "root@tcp(127.0.0.1:3306)/kefu"
	g, err := LoadGateway(nil, env(base), io.Discard)
	if err != nil || g.Routing != "external" {
		t.Fatalf("cluster config: %+v, %v", g, err)
	}
}

func TestBadValuesRejected(t *testing.T) {
	for _, e := range []map[string]string{
		{"KEFU_NODE_ID": "Bad_ID"},
		{"KEFU_ROUTING": "sideways"},
		{"KEFU_SEED_DEMO": "maybe"},
		{"KEFU_LOG_LEVEL": "loud"},
		{"KEFU_VISITOR_RATE": "0"},
	} {
		if _, err := LoadGateway(nil, env(e), io.Discard); err == nil {
			t.Errorf("%v accepted", e)
		}
	}
	if _, err := LoadRouting(nil, env(nil), io.Discard); err == nil {
		t.Error("routing without Redis and MySQL accepted")
	}
}

// The README's configuration table is the documentation of every setting:
// each variable the code reads must appear there, and nothing else.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(KEFU_[A-Z_]+)`").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	var g Gateway
	var r Routing
	read := map[string]bool{}
	for _, o := range append(g.options(), r.options()...) {
		read[o.env] = true
		if !documented[o.env] {
			t.Errorf("%s is not documented in README.md", o.env)
		}
	}
	for name := range documented {
		if !read[name] && !strings.HasPrefix(name, "KEFU_TEST_") && !strings.HasPrefix(name, "KEFU_E2E_") {
			t.Errorf("README.md documents %s, which nothing reads", name)
		}
	}
}
