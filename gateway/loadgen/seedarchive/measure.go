package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/gateway/auth"
	"github.com/kefu-im/kefu/gateway/auth/throttle"
	"github.com/kefu-im/kefu/gateway/node"
	"github.com/kefu-im/kefu/gateway/sio"
	"github.com/kefu-im/kefu/gateway/sitecache"
	"github.com/kefu-im/kefu/pkg/broker"
	"github.com/kefu-im/kefu/pkg/command"
	"github.com/kefu-im/kefu/pkg/emit"
	"github.com/kefu-im/kefu/pkg/identity"
	"github.com/kefu-im/kefu/pkg/online"
	"github.com/kefu-im/kefu/pkg/store"
)

// probe is one kind of search, given a fresh pick of its parameters each
// time: who asks and what.
type probe struct {
	name string
	next func(r *rand.Rand) (token string, q url.Values, path string)
}

// measure serves the REST API from a gateway node on the seeded store (the
// node the binary builds, without routing or sockets) and times each probe.
func measure(ctx context.Context, st *store.Store, w *world, c config, r *rand.Rand, out io.Writer, log *slog.Logger) error {
	sockets, err := sio.New(sio.Config{NodeID: "bench", Logger: log})
	if err != nil {
		return err
	}
	authSvc, err := auth.New(st, time.Hour, throttle.Policy{})
	if err != nil {
		return err
	}
	signer, err := identity.NewSigner(strings.Repeat("k", 32))
	if err != nil {
		return err
	}
	n := node.New(node.Deps{
		Store: st, Sites: sitecache.New(st, time.Minute), Auth: authSvc, Signer: signer, Emit: emit.New(broker.NewMemory()),
		Commands: command.NewMemory(), Online: online.NewMemory(), Sockets: sockets, NodeID: "bench", PublicURL: "http://localhost",
		VisitorRate: 1000, Logger: log,
	})
	defer n.Close()
	srv := httptest.NewServer(n.Echo)
	defer srv.Close()
	login := func(username string) (string, error) {
		token, _, err := authSvc.Login(ctx, username, password, auth.Client{})
		return token, err
	}
	admin, err := login("benchadmin")
	if err != nil {
		return err
	}
	agents := make([]string, 0, 20)
	for _, name := range w.Agents[:min(20, len(w.Agents))] {
		tok, err := login(name)
		if err != nil {
			return err
		}
		agents = append(agents, tok)
	}
	var sups []string
	for _, g := range w.Skills[:min(5, len(w.Skills))] {
		tok, err := login(w.Supervisors[g])
		if err != nil {
			return err
		}
		sups = append(sups, tok)
	}
	pick := func(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }
	days := func(d int) string { return time.Now().AddDate(0, 0, -d).UTC().Format(time.RFC3339) }
	search := "/api/v1/archive"
	probes := []probe{
		{"filters: last 7 days (the UI's default)", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"from": {days(7)}}, search
		}},
		{"filters: one agent's own, all time (agent's login)", func(r *rand.Rand) (string, url.Values, string) {
			return pick(r, agents), url.Values{}, search
		}},
		{"filters: supervisor's scope, last 30 days", func(r *rand.Rand) (string, url.Values, string) {
			return pick(r, sups), url.Values{"from": {days(30)}}, search
		}},
		{"filters: site + rating 5, all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"appid": {pick(r, w.Sites)}, "rating": {"5"}}, search
		}},
		{"filters: skill + end reason + tag, all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"skill": {pick(r, w.Skills)}, "endby": {"agent"}, "tag": {pick(r, w.Tags)}}, search
		}},
		{"filters: visitor name or contact contains, all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"visitor": {fmt.Sprintf("user%d", 100+r.IntN(900))}}, search
		}},
		{"text: common word, all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"q": {pick(r, []string{"order", "refund", "delivery", "parcel", "thanks"})}}, search
		}},
		{"text: common word, last 7 days", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"q": {pick(r, []string{"order", "refund", "delivery", "parcel", "thanks"})}, "from": {days(7)}}, search
		}},
		{"text: rare word (in 5–50 chats), all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"q": {pick(r, w.Rare)}}, search
		}},
		{"text: Chinese bigram, all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"q": {pick(r, []string{"退货", "快递", "发票", "优惠", "售后"})}}, search
		}},
		{"text: Chinese phrase of 4 (confirmed), all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"q": {pick(r, []string{"申请退货", "订单号码", "快递包裹", "退款处理"})}}, search
		}},
		{"text: English phrase (confirmed), all time", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"q": {pick(r, []string{"my order", "the delivery", "refund please", "to you"})}}, search
		}},
		{"text + filters: common word, one agent's own", func(r *rand.Rand) (string, url.Values, string) {
			return pick(r, agents), url.Values{"q": {pick(r, []string{"order", "退货", "thanks"})}}, search
		}},
		{"text + filters: bigram, supervisor's scope, last 30 days", func(r *rand.Rand) (string, url.Values, string) {
			return pick(r, sups), url.Values{"q": {pick(r, []string{"退货", "快递", "订单"})}, "from": {days(30)}}, search
		}},
		{"CSV export, 10,000 rows (all time)", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{}, search + "/export.csv"
		}},
		{"CSV export, common word (all its rows, ≤ 10,000)", func(r *rand.Rand) (string, url.Values, string) {
			return admin, url.Values{"q": {"order"}}, search + "/export.csv"
		}},
	}
	fmt.Fprintf(out, "\n| search (REST, limit 50) | p50 | p99 | results |\n|---|---:|---:|---:|\n")
	for _, p := range probes {
		runs := c.runs
		if strings.HasPrefix(p.name, "CSV") {
			runs = max(5, c.runs/4)
		}
		var took []time.Duration
		var found int
		for i := -2; i < runs; i++ { // two warm-up runs
			tok, q, path := p.next(r)
			d, n, err := get(ctx, srv.URL+path+"?"+q.Encode(), tok)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			if i >= 0 {
				took, found = append(took, d), found+n
			}
		}
		slices.Sort(took)
		fmt.Fprintf(out, "| %s | %s | %s | %d |\n", p.name, ms(took[len(took)/2]), ms(took[min(len(took)-1, len(took)*99/100)]), found/runs)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// get times one request and counts what it returned: items of a page, rows
// of a CSV.
func get(ctx context.Context, u, token string) (time.Duration, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s: %d %s", u, resp.StatusCode, body)
	}
	if strings.Contains(u, "export.csv") {
		return d, strings.Count(string(body), "\n") - 1, nil
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, 0, err
	}
	return d, len(page.Items), nil
}
