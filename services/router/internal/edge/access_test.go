package edge

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	pb "github.com/switchyard/switchyard/pkg/gen/switchyard/v1"
	"github.com/switchyard/switchyard/services/router/internal/keys"
	"github.com/switchyard/switchyard/services/router/internal/ratelimit"
	"github.com/switchyard/switchyard/services/router/internal/routes"
)

// withKeys returns an authenticator knowing one key per record (the
// record's Hash is filled in) and the keys, in order.
func withKeys(t *testing.T, records ...*pb.ConsumerKey) (*keys.Authenticator, []string) {
	t.Helper()
	var plain []string
	for i, rec := range records {
		m, err := keys.Mint(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		rec.Hash, rec.Id = keys.HashKey(m.Key).Hex(), "key_"+string(rune('a'+i))
		plain = append(plain, m.Key)
	}
	var cache keys.Cache
	cache.Store(keys.NewSnapshot(records))
	return keys.NewAuthenticator(keys.DefaultConfig(), &cache, slog.New(slog.DiscardHandler)), plain
}

// Keys, models, service policy and rate limits are all decided before any
// upstream call, with OpenAI's statuses and bodies.
func TestAccessAndLimits(t *testing.T) {
	up := startUpstream(t, openAIChatHandler)
	auth, k := withKeys(t,
		&pb.ConsumerKey{Owner: "ana@lab.example", Groups: []string{"Research"}},
		&pb.ConsumerKey{Owner: "bob@other.example", AllowedModels: []string{"open"}},
		&pb.ConsumerKey{Owner: "cy@lab.example", Limits: &pb.Limits{Rpm: 2}},
	)
	cfg := testConfig()
	cfg.Auth, cfg.Limiter = auth, ratelimit.NewMemory(ratelimit.MemoryOptions{})
	routesMap := newRoutes(
		svc{name: "gated", model: "closed", protocol: "OPENAI_V1", base: up.URL},
		svc{name: "free", model: "open", protocol: "OPENAI_V1", base: up.URL})
	routesMap["gated"].Service.AllowedGroups = []string{"research"}
	routesMap["gated"].Service.AllowedDomains = []string{"lab.example"}
	e := startEdgeOver(t, cfg, routes.NewTable(routesMap))
	cases := []struct {
		name, key, model string
		status           int
		code             string
	}{
		{"no key", "", "open", 401, ""},
		{"unknown key", "sy-" + strings.Repeat("a", 43), "open", 401, "invalid_api_key"},
		{"policy passes", k[0], "closed", 200, ""},
		{"model not allowed", k[1], "closed", 403, "model_not_allowed"},
		{"group not allowed", k[2], "closed", 403, "group_not_allowed"},
		{"allowed model", k[1], "open", 200, ""},
		{"limit 1 of 2", k[2], "open", 200, ""},
		{"limit 2 of 2", k[2], "open", 200, ""},
		{"limit spent", k[2], "open", 429, "rate_limit_exceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := up.calls.Load()
			status, h, body := post(t, e.URL+"/v1/chat/completions", chatFor(tc.model), "Authorization", "Bearer "+tc.key)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.status == 200 {
				return
			}
			if _, code, _ := errorBody(t, body); code != tc.code {
				t.Fatalf("code %q, want %q: %s", code, tc.code, body)
			}
			if up.calls.Load() != before {
				t.Fatal("a refused request reached the upstream")
			}
			if tc.status == 429 && (h.Get("Retry-After") == "" || h.Get(ratelimit.HeaderRemainingRequests) != "0") {
				t.Fatalf("429 headers: %v", h)
			}
		})
	}
	// x-ratelimit-* headers on a successful answer of a limited key, and
	// the rate-limited request is metered as such.
	if ev := e.usage.waitEvent(t, 5); ev.GetOutcome() != "rate_limited" || ev.GetConsumer() != "key_c" {
		t.Fatalf("rate-limited usage event %v", ev)
	}
	// /v1/models is filtered per key.
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+k[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Data []struct{ ID string } }
	if err := decodeJSON(resp, &list); err != nil || len(list.Data) != 1 || list.Data[0].ID != "open" {
		t.Fatalf("models for a key allowed only `open`: %+v (%v)", list, err)
	}
}

func startEdgeOver(t testing.TB, cfg Config, table *routes.Table) *testEdge {
	t.Helper()
	sink := &usageLog{}
	s := New(cfg, staticRoutes{table}, sink, slog.New(slog.DiscardHandler))
	e := serveEdge(t, s)
	e.usage = sink
	return e
}
