package action

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
)

// A gateway that answers an admin POST with a redirect to another loopback port: the
// real admin client does not follow it, the dispatcher stops the account's steps there,
// and the audit log records the call as failed with the redirect's status, never "ok".
// The second port receives nothing at all, so neither the request nor the key reaches it.
func TestRedirectedAdminCallIsAuditedAsFailed(t *testing.T) {
	const key = "admin-0123456789abcdef"
	var mu sync.Mutex
	var elsewhereHits, gatewayCalls []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhereHits = append(elsewhereHits, r.Method+" "+r.URL.String())
		mu.Unlock()
		w.Write([]byte(`{"code":0,"message":"success","data":null}`))
	}))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			mu.Lock()
			gatewayCalls = nil
			mu.Unlock()
			gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				gatewayCalls = append(gatewayCalls, r.Method+" "+r.URL.Path)
				mu.Unlock()
				w.Header().Set("Location", elsewhere.URL+r.URL.Path+"?token=abc")
				w.WriteHeader(status)
			}))
			defer gateway.Close()
			admin, err := source.NewAdmin(source.AdminConfig{BaseURL: gateway.URL, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			reread := func(context.Context, int64) (model.Account, error) {
				return model.Account{ID: 8, Status: "active"}, nil
			}
			d := NewDispatcher(admin, NewAudit(path, os.Getenv), reread, "").VisibleWithin(0)
			res := d.Run(context.Background(), Same([]Kind{ClearRateLimit, Schedule}, []Target{{ID: 8, Name: "codex-08", Reason: "rate_limited"}}))[0]

			if res.Err == nil || res.Status != status || !slices.Equal(res.Steps, []Kind{ClearRateLimit}) {
				t.Fatalf("result %+v: the redirect must fail the first step and stop there", res)
			}
			if !strings.HasPrefix(res.Outcome, "failed: ") || !strings.Contains(res.Outcome, "redirected to "+elsewhere.URL) || res.After != nil {
				t.Fatalf("outcome %q, after %v", res.Outcome, res.After)
			}
			mu.Lock()
			calls := slices.Clone(gatewayCalls)
			mu.Unlock()
			if !slices.Equal(calls, []string{"POST /api/v1/admin/accounts/8/clear-rate-limit"}) {
				t.Fatalf("the gateway saw %q", calls)
			}

			recs := readAudit(t, path)
			if len(recs) != 2 {
				t.Fatalf("%d audit lines, want the start and end of the one call: %+v", len(recs), recs)
			}
			start, end := recs[0], recs[1]
			if start.Phase != "start" || start.Action != ClearRateLimit || start.AccountID != 8 || start.Reason != "rate_limited" {
				t.Fatalf("start %+v", start)
			}
			if end.Phase != "end" || end.Action != ClearRateLimit || end.HTTPStatus != status || end.Outcome == "ok" || !strings.HasPrefix(end.Outcome, "failed: ") ||
				!strings.Contains(end.Outcome, "(HTTP "+strconv.Itoa(status)+")") {
				t.Fatalf("end %+v: a redirected call is recorded as failed with its status", end)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), key) || strings.Contains(string(raw), "token=abc") {
				t.Fatalf("the audit log holds the key or the redirect's query: %s", raw)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(elsewhereHits) != 0 {
		t.Fatalf("the redirect target received %q", elsewhereHits)
	}
}
