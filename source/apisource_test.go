package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/valyala/fastjson"
)

// listGateway serves GET /api/v1/admin/accounts the way sub2api 0.1.179 does: pages of
// page_size (1-1000, else 20), a sha256 ETag over the page, 304 on If-None-Match.
type listGateway struct {
	mu       sync.Mutex
	accounts []map[string]any
	failPage int // answer 500 for this page
	requests []string
	notMod   int
	// bogus304 answers 304 even without If-None-Match.
	bogus304 bool
}

func (g *listGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.Header.Get("x-api-key") != testKey {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"code":"INVALID_ADMIN_KEY","message":"invalid admin key"}`)
		return
	}
	q := r.URL.Query()
	g.requests = append(g.requests, r.URL.RawQuery)
	if g.bogus304 {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	size, _ := strconv.Atoi(q.Get("page_size"))
	if page < 1 {
		page = 1
	}
	if size < 1 || size > 1000 {
		size = 20
	}
	if page == g.failPage {
		w.WriteHeader(500)
		fmt.Fprint(w, `{"code":500,"message":"database is locked"}`)
		return
	}
	if r.URL.Path != "/api/v1/admin/accounts" || q.Get("sort_by") != "id" {
		w.WriteHeader(404)
		return
	}
	from := min((page-1)*size, len(g.accounts))
	to := min(from+size, len(g.accounts))
	items := g.accounts[from:to]
	raw, _ := json.Marshal(items)
	sum := sha256.Sum256(append(raw, strconv.Itoa(len(g.accounts))...))
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		g.notMod++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	pages := (len(g.accounts) + size - 1) / size
	json.NewEncoder(w).Encode(map[string]any{"code": 0, "message": "success", "data": map[string]any{
		"items": items, "total": len(g.accounts), "page": page, "page_size": size, "pages": max(pages, 1)}})
}

func dtoAccount(id int64) map[string]any {
	return map[string]any{"id": id, "name": "acc-" + strconv.FormatInt(id, 10), "platform": "openai", "type": "oauth",
		"status": "active", "schedulable": true, "credentials": map[string]any{"plan_type": "plus"},
		"credentials_status": map[string]any{"has_access_token": true}, "current_concurrency": 1,
		"extra": map[string]any{"codex_5h_used_percent": 10, "codex_usage_updated_at": "2026-11-28T08:00:00Z"}, "group_ids": []int64{1}}
}

func startListGateway(t *testing.T, n int) (*listGateway, *API) {
	t.Helper()
	g := &listGateway{}
	for i := range n {
		g.accounts = append(g.accounts, dtoAccount(int64(i+1)))
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	admin, err := NewAdmin(AdminConfig{BaseURL: srv.URL, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return g, NewAPI(admin)
}

func TestAPIPagesAndETags(t *testing.T) {
	g, api := startListGateway(t, 2500)
	ctx := context.Background()
	accounts, err := api.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 2500 || accounts[0].ID != 1 || accounts[2499].ID != 2500 || accounts[1234].Key != "api:account:1235" {
		t.Fatalf("got %d accounts", len(accounts))
	}
	if len(g.requests) != 3 || !strings.Contains(g.requests[0], "page_size=1000") {
		t.Fatalf("requests %v", g.requests)
	}
	if q := accounts[7].Quota; q == nil || q.Windows[0].UsedPercent != 10 || accounts[7].GroupIDs[0] != 1 {
		t.Fatalf("account not decoded: %+v", accounts[7])
	}

	// Nothing changed: three 304s, the same fleet.
	again, err := api.Read(ctx)
	if err != nil || g.notMod != 3 || !reflect.DeepEqual(again, accounts) {
		t.Fatalf("second read: err %v, 304s %d", err, g.notMod)
	}
	if st := api.TrackingStatus(); !strings.Contains(st, "3 of 3 page(s) unchanged") {
		t.Fatalf("status %q", st)
	}

	// One account on page 2 changes: only that page comes back with a body.
	g.mu.Lock()
	g.accounts[1500]["schedulable"] = false
	g.mu.Unlock()
	third, err := api.Read(ctx)
	if err != nil || g.notMod != 5 || third[1500].Schedulable || !third[1499].Schedulable {
		t.Fatalf("third read: err %v, 304s %d", err, g.notMod)
	}
	// On the re-read page only the changed account has a new fingerprint.
	if third[1500].Rev == accounts[1500].Rev || third[1499].Rev != accounts[1499].Rev || third[1499].Rev == 0 {
		t.Fatalf("fingerprints %x %x / %x %x", accounts[1500].Rev, third[1500].Rev, accounts[1499].Rev, third[1499].Rev)
	}
}

func TestAPIPageFailsMidway(t *testing.T) {
	g, api := startListGateway(t, 1500)
	ctx := context.Background()
	if _, err := api.Read(ctx); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	g.failPage = 2
	g.mu.Unlock()
	accounts, err := api.Read(ctx)
	if err == nil || accounts != nil {
		t.Fatalf("a failed page must fail the read, got %d accounts", len(accounts))
	}
	if want := "page 2 of the account list: the gateway answered HTTP 500: database is locked"; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	g.mu.Lock()
	g.failPage = 0
	g.mu.Unlock()
	if accounts, err = api.Read(ctx); err != nil || len(accounts) != 1500 {
		t.Fatalf("after recovery: %d, %v", len(accounts), err)
	}
}

func TestAPIRefusesBogus304AndBadLists(t *testing.T) {
	g, api := startListGateway(t, 3)
	g.bogus304 = true
	if _, err := api.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "named no ETag") {
		t.Fatalf("err %v", err)
	}
	for body, want := range map[string]string{
		`{"code":0,"data":{"total":1}}`:                 "no items array",
		`{"code":0,"data":{"items":[1,"x"],"total":2}}`: "",
		`{"code":0}`:             "came without data",
		`{"code":0,"data":null}`: "came without data",
		`{"code":"E_DB","message":"db down\u001b[2J"}`: "the gateway refused: db down␛[2J (code E_DB)",
		`<html>oops</html>`:                            "not JSON",
		`[1,2]`:                                        "not JSON",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
		admin, _ := NewAdmin(AdminConfig{BaseURL: srv.URL, Key: testKey})
		accounts, err := NewAPI(admin).Read(context.Background())
		srv.Close()
		if want == "" {
			// Items that are not objects are invalid accounts, never a crash.
			if err != nil || len(accounts) != 2 || accounts[0].Invalid == "" || accounts[1].Invalid == "" {
				t.Fatalf("%s: %v %+v", body, err, accounts)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: err %v, want %q", body, err, want)
		}
	}
}

// The list changing between two pages (an account deleted from page 1 after it was read)
// shifts the next page; the read notices and never lists an account twice.
func TestAPIListChangingWhileRead(t *testing.T) {
	g, api := startListGateway(t, 1001)
	api.pageSize = 500
	g.accounts = g.accounts[:1000]
	accounts, err := api.Read(context.Background())
	if err != nil || len(accounts) != 1000 {
		t.Fatal(err, len(accounts))
	}
	// A gateway that repeats an account across pages.
	g.mu.Lock()
	g.accounts = append(g.accounts[:500:500], g.accounts[499:]...)
	g.mu.Unlock()
	accounts, err = api.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, a := range accounts {
		if seen[a.ID] {
			t.Fatalf("account %d twice", a.ID)
		}
		seen[a.ID] = true
	}
	if st := api.TrackingStatus(); !strings.Contains(st, "changed while read") {
		t.Fatalf("status %q", st)
	}
}

// metaToDTO renders a meta-form value the way the admin API would show the same account:
// snake_case names, Unix seconds for expires_at, secrets redacted from credentials.
func metaToDTO(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var meta map[string]any
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"ID": "id", "Name": "name", "Platform": "platform", "Type": "type", "Status": "status",
		"Schedulable": "schedulable", "Priority": "priority", "Concurrency": "concurrency", "GroupIDs": "group_ids",
		"LastUsedAt": "last_used_at", "AutoPauseOnExpired": "auto_pause_on_expired", "RateLimitedAt": "rate_limited_at",
		"RateLimitResetAt": "rate_limit_reset_at", "OverloadUntil": "overload_until", "TempUnschedulableUntil": "temp_unschedulable_until",
		"TempUnschedulableReason": "temp_unschedulable_reason", "SessionWindowEnd": "session_window_end",
		"SessionWindowStart": "session_window_start", "Extra": "extra", "Notes": "notes", "ProxyID": "proxy_id"}
	dto := map[string]any{"current_concurrency": 0}
	for k, v := range meta {
		switch k {
		case "ExpiresAt":
			if s, ok := v.(string); ok {
				at, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					t.Fatal(err)
				}
				dto["expires_at"] = at.Unix()
			}
		case "Credentials":
			creds := map[string]any{}
			for ck, cv := range v.(map[string]any) {
				if ck != "api_key" && ck != "access_token" && ck != "refresh_token" {
					creds[ck] = cv
				}
			}
			dto["credentials"] = creds
		default:
			if n, ok := names[k]; ok {
				dto[n] = v
			}
		}
	}
	return dto
}

// One table, both sources: every fixture decodes and judges the same from its meta form
// and from the admin API's DTO of the same account.
func TestDTOJudgesLikeMeta(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	files, _ := filepath.Glob("testdata/fixtures/*.json")
	if len(files) < 14 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, p := range []model.Policy{model.DefaultPolicy(), func() model.Policy {
		p := model.DefaultPolicy()
		p.SchedulingThresholds = map[string]float64{"openai": 90, "anthropic": 90, "kimi": 90}
		return p
	}()} {
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fromMeta := DecodeMeta("sched:meta:1", string(raw))
			dto, _ := json.Marshal(metaToDTO(t, raw))
			var dec Decoder
			fromAPI := decodeDTOString(t, &dec, string(dto))
			if fromAPI.Key != APIKey(fromMeta.ID) {
				t.Fatalf("%s: key %q", f, fromAPI.Key)
			}
			if fromAPI.Rev == 0 {
				t.Fatalf("%s: no fingerprint from the API", f)
			}
			fromAPI.Key, fromMeta.Key, fromAPI.Rev = "", "", 0
			if !fromMeta.Block().ExpiresAt.IsZero() {
				// Unix seconds drop the fraction.
				fromMeta.EditBlocks().ExpiresAt = fromMeta.Block().ExpiresAt.Truncate(time.Second)
			}
			if !reflect.DeepEqual(fromMeta, fromAPI) {
				t.Errorf("%s decodes differently:\nmeta %+v\napi  %+v", filepath.Base(f), fromMeta, fromAPI)
				continue
			}
			jm, ja := model.Judge(&fromMeta, p, now), model.Judge(&fromAPI, p, now)
			if !reflect.DeepEqual(jm, ja) {
				t.Errorf("%s judged differently: %+v vs %+v", filepath.Base(f), jm, ja)
			}
		}
	}
}

func decodeDTOString(t *testing.T, d *Decoder, s string) model.Account {
	t.Helper()
	var page fastjson.Parser
	v, err := page.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return decodeDTO(d, v)
}

func TestDTOCredentials(t *testing.T) {
	var d Decoder
	base := `{"id":7,"platform":"openai","type":"oauth","status":"active","schedulable":true,` +
		`"extra":{"email":"A@example.com","codex_5h_used_percent":95,"codex_5h_reset_at":"2026-11-28T12:00:00Z","codex_usage_updated_at":"2026-11-28T09:59:00Z"},`
	cases := []struct {
		creds    string
		override int
		mismatch bool
	}{
		{`{"account_scheduling_threshold":80}`, 80, false},
		{`{"account_scheduling_threshold":75.5}`, 76, false},
		{`{"account_scheduling_threshold":" 60 "}`, 60, false},
		{`{"account_scheduling_threshold":"60.4"}`, 60, false},
		{`{"account_scheduling_threshold":0}`, 0, false},
		{`{"account_scheduling_threshold":101}`, 0, false},
		{`{"account_scheduling_threshold":"NaN"}`, 0, false},
		{`{"account_scheduling_threshold":1e309}`, 0, false},
		{`{"account_scheduling_threshold":true}`, 0, false},
		{`{"email":"a@EXAMPLE.com "}`, 0, false},
		{`{"email":"b@example.com"}`, 0, true},
		{`{"email":""}`, 0, false},
		{`{"chatgpt_account_id":"x","api_key":"sk-live-THIS-MUST-NEVER-BE-SHOWN"}`, 0, false},
	}
	for _, c := range cases {
		a := decodeDTOString(t, &d, base+`"credentials":`+c.creds+`}`)
		if a.Invalid != "" || a.SchedThresholdOverride != c.override || a.IdentityMismatch != c.mismatch {
			t.Errorf("%s: override %d mismatch %v invalid %q", c.creds, a.SchedThresholdOverride, a.IdentityMismatch, a.Invalid)
		}
		if strings.Contains(fmt.Sprintf("%+v", a), "sk-live") {
			t.Fatalf("a credential reached the account: %+v", a)
		}
	}
	// The identity check is the gateway's for OpenAI OAuth only.
	a := decodeDTOString(t, &d, strings.Replace(base, `"oauth"`, `"apikey"`, 1)+`"credentials":{"email":"b@example.com"}}`)
	if a.IdentityMismatch {
		t.Fatal("identity compared on an apikey account")
	}
	// expires_at is Unix seconds in the DTO.
	a = decodeDTOString(t, &d, `{"id":8,"expires_at":1796036400,"auto_pause_on_expired":true}`)
	if !a.Block().ExpiresAt.Equal(time.Unix(1796036400, 0)) || !a.AutoPauseOnExpired {
		t.Fatalf("expires_at %v", a.Block().ExpiresAt)
	}
	a = decodeDTOString(t, &d, `{"id":8,"expires_at":"soon"}`)
	if !a.Block().ExpiresAt.IsZero() || a.Invalid != "" {
		t.Fatalf("a string expires_at: %v %q", a.Block().ExpiresAt, a.Invalid)
	}
}

func TestAPIReadAccount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/admin/accounts/5":
			fmt.Fprint(w, `{"code":0,"message":"success","data":{"id":5,"name":"five","extra":{"codex_usage_updated_at":"2026-11-28T08:00:00Z"},"last_used_at":"2026-11-28T09:00:00Z"}}`)
		case "/api/v1/admin/accounts/6":
			fmt.Fprint(w, `{"code":0,"message":"success","data":{"id":5}}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"code":404,"message":"account not found"}`)
		}
	}))
	defer srv.Close()
	admin, _ := NewAdmin(AdminConfig{BaseURL: srv.URL, Key: testKey})
	api := NewAPI(admin)
	a, err := api.ReadAccount(context.Background(), 5)
	if err != nil || a.Name != "five" || a.Quota == nil || !a.Quota.HasUpdatedAt || a.LastUsedAt.IsZero() {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := api.ReadAccount(context.Background(), 6); err == nil || !strings.Contains(err.Error(), "answered with #5") {
		t.Fatalf("err %v", err)
	}
	if _, err := api.ReadAccount(context.Background(), 9); err == nil || !strings.Contains(err.Error(), "#9 no longer exists") {
		t.Fatalf("err %v", err)
	}
}

var fuzzAdmin, _ = NewAdmin(AdminConfig{BaseURL: "http://127.0.0.1:1", Key: testKey})

// Whatever a hostile gateway lists, decoding a page never panics, its texts are inert, and
// nothing of the credentials reaches an account.
func FuzzDecodeAPIPage(f *testing.F) {
	f.Add(`{"items":[{"id":1,"name":"x\u001b[2J","credentials":{"api_key":"` + Canary + `","account_scheduling_threshold":"7"},"extra":{"codex_5h_used_percent":"1e999"}}],"total":1,"pages":1}`)
	f.Add(`{"items":[{"id":"2","expires_at":-1e300,"credentials":[],"extra":null},"` + Canary + `"],"total":-5,"pages":1e99}`)
	f.Add(`{"items":{"id":3}}`)
	f.Add(`{"items":[{"id":4,"platform":"openai","type":"oauth","credentials":{"email":"` + Canary + `"},"extra":{"email":"x"}}]}`)
	f.Fuzz(func(t *testing.T, raw string) {
		api := NewAPI(fuzzAdmin)
		p, err := api.decodePage([]byte(`{"code":0,"message":"success","data":` + raw + `}`))
		if err != nil {
			if !inert(err.Error()) || strings.Contains(err.Error(), "MUST-NEVER") {
				t.Fatalf("error %q", err)
			}
			return
		}
		for _, a := range p.accounts {
			text := fmt.Sprintf("%+v", a)
			if strings.Contains(text, "MUST-NEVER") {
				t.Fatalf("a credential reached the account: %s", text)
			}
			for _, s := range []string{a.Name, a.Platform, a.Type, a.Status, a.Key, a.Block().TempUnschedulableReason, a.Invalid} {
				if !inert(s) {
					t.Fatalf("decoded text %q is not inert", s)
				}
			}
			if a.SchedThresholdOverride < 0 || a.SchedThresholdOverride > 100 {
				t.Fatalf("override %d", a.SchedThresholdOverride)
			}
		}
	})
}
