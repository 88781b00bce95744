package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/pkg/broker"
)

type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, broker.Message) error { return errors.New("down") }
func (failingPublisher) PublishMany(context.Context, []broker.Message) error {
	return nil
}

func TestMetricsAreServed(t *testing.T) {
	r := New()
	s := r.Sockets(func() map[[2]string]int { return map[[2]string]int{{"/im/user", "websocket"}: 3} })
	s.Handled("/im/user", "message", "")
	s.Handled("/im/user", "message", "too_large")
	s.Emitted("/im/agent", "new", 2)
	pub := r.Publisher(failingPublisher{})
	_ = pub.Publish(context.Background(), broker.Message{})
	_ = pub.PublishMany(context.Background(), nil)
	r.StoreObserver()("query", 3*time.Millisecond, nil)
	m := r.Routing()
	m.QueueLength("demo", 7)
	m.Assigned(time.Second)
	m.Batch(12, 5*time.Millisecond)
	m.Leading(true)

	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`kefu_socket_connections{namespace="/im/user",transport="websocket"} 3`,
		`kefu_socket_events_in_total{event="message",namespace="/im/user",result="ok"} 1`,
		`kefu_socket_events_in_total{event="message",namespace="/im/user",result="too_large"} 1`,
		`kefu_socket_events_out_total{event="new",namespace="/im/agent"} 2`,
		`kefu_broker_publish_seconds_count{call="one",result="error"} 1`,
		`kefu_broker_publish_seconds_count{call="many",result="ok"} 1`,
		`kefu_store_seconds_count{op="query",result="ok"} 1`,
		`kefu_routing_queue_length{orgi="demo"} 7`,
		`kefu_routing_assignment_seconds_count 1`,
		`kefu_routing_batch_commands_sum 12`,
		`kefu_routing_leader 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("missing %s", want)
		}
	}
}
