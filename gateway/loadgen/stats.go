package main

import (
	"math"
	"math/bits"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// histogram records durations with about 1.5% precision (64 linear
// sub-buckets per power of two, as HdrHistogram does), lock-free, from
// 1 ns to about 18 minutes.
type histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
	sum    atomic.Int64
	max    atomic.Int64
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = (40 - histSubBits + 1) * histSub
)

func histIndex(v int64) int {
	if v < histSub {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - histSubBits - 1
	i := (e+1)*histSub + int(v>>e) - histSub
	return min(i, histBuckets-1)
}

// histValue is the middle of bucket i.
func histValue(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	e := i/histSub - 1
	lo := int64(i%histSub+histSub) << e
	return lo + (int64(1)<<e)/2
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	h.counts[histIndex(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// LatencySummary is a histogram's summary, in milliseconds.
type LatencySummary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func (h *histogram) summary() LatencySummary {
	n := h.n.Load()
	s := LatencySummary{Count: n}
	if n == 0 {
		return s
	}
	ms := func(v int64) float64 { return math.Round(float64(v)/1e3) / 1e3 }
	s.Mean = ms(h.sum.Load() / n)
	s.Max = ms(h.max.Load())
	qs := []float64{0.50, 0.95, 0.99, 0.999}
	out := []*float64{&s.P50, &s.P95, &s.P99, &s.P999}
	var cum int64
	q := 0
	for i := range h.counts {
		cum += h.counts[i].Load()
		for q < len(qs) && float64(cum) >= qs[q]*float64(n) {
			*out[q] = min(ms(histValue(i)), s.Max)
			q++
		}
	}
	return s
}

// errorCounts counts errors by kind.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (e *errorCounts) add(kind string) {
	if len(kind) > 160 {
		kind = kind[:160]
	}
	e.mu.Lock()
	if e.m == nil {
		e.m = make(map[string]int64)
	}
	e.m[kind]++
	e.mu.Unlock()
}

func (e *errorCounts) snapshot() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

func (e *errorCounts) total() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, v := range e.m {
		n += v
	}
	return n
}

// Legs of a measured message.
const (
	legForward = 1 // visitor → agent (relay: A → B)
	legBack    = 2 // the reply, agent → visitor (relay: B → A)
)

// tracker follows every measured message: which legs arrived, to count
// losses and duplicates.
type tracker struct {
	mu   sync.Mutex
	legs map[uint64]uint8
	// outstanding counts legs still expected; drained when it reaches 0.
	outstanding int64
	drained     chan struct{}
	closed      bool
}

func newTracker() *tracker {
	return &tracker{legs: make(map[uint64]uint8), drained: make(chan struct{})}
}

// sent registers a message (and its reply, if one is expected).
func (t *tracker) sent(seq uint64, legs int64) {
	t.mu.Lock()
	t.legs[seq] = 0
	t.outstanding += legs
	t.mu.Unlock()
}

// arrived records a leg; false for a duplicate or an unknown message.
func (t *tracker) arrived(seq uint64, leg uint8) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	got, ok := t.legs[seq]
	if !ok || got&leg != 0 {
		return false
	}
	t.legs[seq] = got | leg
	t.outstanding--
	if t.outstanding == 0 && t.closed {
		t.closeDrained()
	}
	return true
}

// unexpect removes legs that can no longer arrive (a send or a reply that
// failed), so that the drain does not wait for them.
func (t *tracker) unexpect(legs int64) {
	t.mu.Lock()
	t.outstanding -= legs
	if t.outstanding <= 0 && t.closed {
		t.closeDrained()
	}
	t.mu.Unlock()
}

// close says no more messages will be sent; drained is closed once every
// expected leg has arrived.
func (t *tracker) close() <-chan struct{} {
	t.mu.Lock()
	t.closed = true
	if t.outstanding <= 0 {
		t.closeDrained()
	}
	t.mu.Unlock()
	return t.drained
}

func (t *tracker) closeDrained() {
	select {
	case <-t.drained:
	default:
		close(t.drained)
	}
}

// missing counts the messages whose forward leg, and whose back leg among
// those that expected one, never arrived.
func (t *tracker) missing(reply bool) (fwd, back int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, got := range t.legs {
		if got&legForward == 0 {
			fwd++
		} else if reply && got&legBack == 0 {
			back++
		}
	}
	return fwd, back
}

// urlPattern matches URLs in error messages: they carry per-client query
// strings (ids, signatures) and would make every error a kind of its own.
var urlPattern = regexp.MustCompile(`"?(https?|wss?)://[^\s"]*"?`)

// errKind shortens an error to a kind worth counting.
func errKind(prefix string, err error) string {
	return prefix + ": " + urlPattern.ReplaceAllString(err.Error(), "URL")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
