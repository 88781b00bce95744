// Package metrics exposes the processes' Prometheus metrics. Each process
// builds its own registry (no global state) and hands the observers below
// to the parts it wires together; /metrics serves the registry.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kefu-im/kefu/pkg/broker"
)

// Registry is one process's metrics.
type Registry struct{ reg *prometheus.Registry }

// New returns a registry with the Go runtime and process collectors.
func New() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{reg: reg}
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// latencyBuckets suit calls that take from 100 µs to a few seconds.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 2.5, 12)

// Sockets observes a gateway's Socket.IO server (it is a sio.Observer).
type Sockets struct {
	handled *prometheus.CounterVec
	emitted *prometheus.CounterVec
}

// Sockets registers the socket metrics; connections reads the current
// connections by (namespace, transport) at each scrape.
func (r *Registry) Sockets(connections func() map[[2]string]int) *Sockets {
	s := &Sockets{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_socket_events_in_total", Help: "Client events handled, by namespace, event and acknowledgement result (ok or the error code).",
		}, []string{"namespace", "event", "result"}),
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kefu_socket_events_out_total", Help: "Events queued to this node's sockets, by namespace and event.",
		}, []string{"namespace", "event"}),
	}
	r.reg.MustRegister(s.handled, s.emitted, &connectionsCollector{read: connections, desc: prometheus.NewDesc(
		"kefu_socket_connections", "Connected sockets on this node, by namespace and transport.", []string{"namespace", "transport"}, nil)})
	return s
}

// Handled counts a handled client event.
func (s *Sockets) Handled(namespace, event, code string) {
	if code == "" {
		code = "ok"
	}
	s.handled.WithLabelValues(namespace, event, code).Inc()
}

// Emitted counts an event queued to n sockets.
func (s *Sockets) Emitted(namespace, event string, n int) {
	s.emitted.WithLabelValues(namespace, event).Add(float64(n))
}

type connectionsCollector struct {
	read func() map[[2]string]int
	desc *prometheus.Desc
}

func (c *connectionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *connectionsCollector) Collect(ch chan<- prometheus.Metric) {
	for k, n := range c.read() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
}

// Publisher wraps pub, timing each publish.
func (r *Registry) Publisher(pub broker.Publisher) broker.Publisher {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kefu_broker_publish_seconds", Help: "Time to publish to the broker, by call (one or many messages) and result.", Buckets: latencyBuckets,
	}, []string{"call", "result"})
	r.reg.MustRegister(h)
	return &timedPublisher{pub: pub, h: h}
}

type timedPublisher struct {
	pub broker.Publisher
	h   *prometheus.HistogramVec
}

func (t *timedPublisher) Publish(ctx context.Context, msg broker.Message) error {
	start := time.Now()
	err := t.pub.Publish(ctx, msg)
	t.h.WithLabelValues("one", result(err)).Observe(time.Since(start).Seconds())
	return err
}

func (t *timedPublisher) PublishMany(ctx context.Context, msgs []broker.Message) error {
	start := time.Now()
	err := t.pub.PublishMany(ctx, msgs)
	t.h.WithLabelValues("many", result(err)).Observe(time.Since(start).Seconds())
	return err
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// StoreObserver returns the function the store calls after each database
// operation (create, query, update, delete, row, raw).
func (r *Registry) StoreObserver() func(op string, d time.Duration, err error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kefu_store_seconds", Help: "Database operation time, by operation and result.", Buckets: latencyBuckets,
	}, []string{"op", "result"})
	r.reg.MustRegister(h)
	return func(op string, d time.Duration, err error) { h.WithLabelValues(op, result(err)).Observe(d.Seconds()) }
}

// Routing observes the routing service.
type Routing struct {
	queue    *prometheus.GaugeVec
	wait     prometheus.Histogram
	batch    prometheus.Histogram
	batchLen prometheus.Histogram
	leader   prometheus.Gauge
}

// Routing registers the routing metrics.
func (r *Registry) Routing() *Routing {
	m := &Routing{
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kefu_routing_queue_length", Help: "Visitors waiting, by tenant.",
		}, []string{"orgi"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kefu_routing_assignment_seconds", Help: "Time from a visitor's request (or re-queueing) to its assignment being committed.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 12),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kefu_routing_batch_seconds", Help: "Time to decide and commit one batch of commands.", Buckets: latencyBuckets,
		}),
		batchLen: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kefu_routing_batch_commands", Help: "Commands per batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 8),
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kefu_routing_leader", Help: "1 while this replica holds the routing lease.",
		}),
	}
	r.reg.MustRegister(m.queue, m.wait, m.batch, m.batchLen, m.leader)
	return m
}

// QueueLength records a tenant's waiting visitors.
func (m *Routing) QueueLength(orgi string, n int) { m.queue.WithLabelValues(orgi).Set(float64(n)) }

// Assigned records how long a visitor waited for its assignment.
func (m *Routing) Assigned(wait time.Duration) { m.wait.Observe(wait.Seconds()) }

// Batch records one committed batch.
func (m *Routing) Batch(commands int, d time.Duration) {
	m.batch.Observe(d.Seconds())
	m.batchLen.Observe(float64(commands))
}

// Leading records whether this replica leads.
func (m *Routing) Leading(yes bool) {
	v := 0.0
	if yes {
		v = 1
	}
	m.leader.Set(v)
}
