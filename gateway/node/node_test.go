package node_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/gateway/demo"
	"github.com/kefu-im/kefu/gateway/node/nodetest"
	"github.com/kefu-im/kefu/pkg/protocol"
)

// TestLoginTellsRights: the login answer carries the supervision rights
// the roles grant, so the workbench knows whether to show the monitor.
func TestLoginTellsRights(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	var out struct {
		Agent struct {
			Rights []string `json:"rights"`
			Tenant bool     `json:"tenant"`
		} `json:"agent"`
	}
	for _, tc := range []struct {
		user   string
		rights []string
		tenant bool
	}{
		{demo.Admin, []string{"read", "write", "transfer"}, true},
		{demo.Agent, []string{}, false},
	} {
		resp := n.Do(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": tc.user, "password": nodetest.Password}, &out)
		if resp.StatusCode != http.StatusOK || !slices.Equal(out.Agent.Rights, tc.rights) || out.Agent.Tenant != tc.tenant {
			t.Errorf("%s: %d rights %v tenant %v, want %v %v", tc.user, resp.StatusCode, out.Agent.Rights, out.Agent.Tenant, tc.rights, tc.tenant)
		}
	}
}

// TestNodeServesSockets: a visitor connects through the assembled node.
func TestNodeServesSockets(t *testing.T) {
	n := nodetest.Start(t, nodetest.Options{})
	got := make(chan string, 8)
	c := n.Socket(protocol.NamespaceUser, n.Visitor("v1"), func(event string, _ json.RawMessage) { got <- event })
	ack, err := c.Call(t.Context(), protocol.EventNew, protocol.NewChat{Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	var a protocol.NewChatAck
	if err := json.Unmarshal(ack, &a); err != nil || !a.OK || a.AgentServiceID == "" {
		t.Fatalf("new: %s %v", ack, err)
	}
	select {
	case ev := <-got:
		if ev != protocol.EventStatus {
			t.Fatalf("first event %q, want status", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no status after new")
	}
}
