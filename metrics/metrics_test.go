package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
	"github.com/quotatop/quotatop/events"
	"github.com/quotatop/quotatop/model"
	"go.yaml.in/yaml/v3"
)

var t0 = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

func fleet() ([]model.Account, []model.Judgement) {
	q := &model.Quota{UpdatedAt: t0.Add(-90 * time.Second), HasUpdatedAt: true}
	q.Windows[0] = model.WindowSnapshot{Present: true, UsedPercent: 97, Threshold: 0.95}
	q.Windows[1] = model.WindowSnapshot{Present: true, UsedPercent: 40}
	accounts := []model.Account{
		{ID: 1, Name: "alice@example.com", Platform: "openai", Status: "active", Schedulable: true, GroupIDs: []int64{7}, Quota: q},
		{ID: 2, Name: "bob", Platform: "anthropic", Status: "active", Schedulable: true, GroupIDs: []int64{7, 8}},
		{ID: 3, Name: "carol", Platform: "openai", Status: "disabled", GroupIDs: []int64{8}},
	}
	p := model.DefaultPolicy()
	js := make([]model.Judgement, len(accounts))
	for i := range accounts {
		js[i] = model.Judge(&accounts[i], p, t0)
	}
	return accounts, js
}

type projector struct{}

func (projector) TimeToDry(id int64, w model.WindowName, _ time.Time) (time.Duration, bool) {
	return 25 * time.Minute, id == 1 && w == model.Window7d
}

func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(prommodel.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// series renders a family as sorted "label=value,... value" strings.
func series(f *dto.MetricFamily) []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		v := m.GetGauge().GetValue()
		if m.Counter != nil {
			v = m.GetCounter().GetValue()
		}
		out = append(out, strings.Join(ls, ",")+" "+strconvG(v))
	}
	sort.Strings(out)
	return out
}

func strconvG(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// listen serves m on a loopback port until the test ends and returns its base URL.
func listen(t testing.TB, m *Metrics) string {
	t.Helper()
	srv, err := m.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return "http://" + srv.Addr()
}

func TestScrape(t *testing.T) {
	m := New(Options{Projector: projector{}, Clock: func() time.Time { return t0.Add(10 * time.Second) }})
	base := listen(t, m)

	if code, body := get(t, base+"/healthz"); code != 503 || body != "no poll has finished yet\n" {
		t.Errorf("healthz before a poll: %d %q", code, body)
	}
	accounts, js := fleet()
	m.Update(t0, 20*time.Millisecond, model.DefaultPolicy(), accounts, js)
	m.Count([]events.Event{{Kind: events.KindState}, {Kind: events.KindGroup}, {Kind: events.KindState}})
	fams := scrape(t, base)

	want := map[string][]string{
		"quotatop_window_used_ratio":            {"account_id=1,window=5h 0.97", "account_id=1,window=7d 0.4"},
		"quotatop_window_threshold_ratio":       {"account_id=1,window=5h 0.95"},
		"quotatop_window_time_to_pause_seconds": nil, // account 1 is paused already
		"quotatop_account_snapshot_age_seconds": {"account_id=1 100"},
		"quotatop_account_info":                 {"account_id=1,platform=openai 1", "account_id=2,platform=anthropic 1", "account_id=3,platform=openai 1"},
		"quotatop_group_schedulable_accounts":   {"group=7,platform=anthropic 1", "group=7,platform=openai 0", "group=8,platform=anthropic 1", "group=8,platform=openai 0"},
		"quotatop_group_accounts":               {"group=7,platform=anthropic 1", "group=7,platform=openai 1", "group=8,platform=anthropic 1", "group=8,platform=openai 1"},
		"quotatop_storage_up":                   {" 1"},
		"quotatop_events_total":                 {"kind=account_state 2", "kind=dry_soon 0", "kind=group 1", "kind=storage 0", "kind=window_warn 0"},
	}
	for name, w := range want {
		if got := series(fams[name]); !slices.Equal(got, w) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, w)
		}
	}
	var paused, ones []string
	for _, s := range series(fams["quotatop_account_state"]) {
		if strings.HasSuffix(s, " 1") {
			ones = append(ones, s)
		}
	}
	if !slices.Equal(ones, []string{"account_id=1,state=paused 1", "account_id=2,state=ok 1", "account_id=3,state=disabled 1"}) {
		t.Errorf("states %q", ones)
	}
	if n := len(fams["quotatop_account_state"].Metric); n != 3*len(model.States) {
		t.Errorf("%d state series, want one per account and state", n)
	}
	for _, s := range series(fams["quotatop_accounts"]) {
		if strings.HasPrefix(s, "state=paused ") || strings.HasPrefix(s, "state=ok ") || strings.HasPrefix(s, "state=disabled ") {
			paused = append(paused, s)
		}
	}
	if !slices.Equal(paused, []string{"state=disabled 1", "state=ok 1", "state=paused 1"}) {
		t.Errorf("counts %q", paused)
	}
	if h := fams["quotatop_poll_duration_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() != 1 || h.GetSampleSum() != 0.02 {
		t.Errorf("poll histogram %v", h)
	}
	if strings.Contains(strings.Join(series(fams["quotatop_account_info"]), " "), "alice") {
		t.Error("account names exported without --metrics-account-names")
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok: the last poll succeeded at 2026-11-28T06:00:00Z\n" {
		t.Errorf("healthz: %d %q", code, body)
	}

	m.Failed(time.Second, errors.New("dial tcp 127.0.0.1:1: connect: connection refused\x1b[0m"))
	fams = scrape(t, base)
	if got := series(fams["quotatop_storage_up"]); !slices.Equal(got, []string{" 0"}) {
		t.Errorf("storage_up after failure %q", got)
	}
	if got := series(fams["quotatop_poll_errors_total"]); !slices.Equal(got, []string{" 1"}) {
		t.Errorf("poll errors %q", got)
	}
	if len(fams["quotatop_account_info"].GetMetric()) != 3 {
		t.Error("the last good fleet should stay exported during an outage")
	}
	if code, body := get(t, base+"/healthz"); code != 503 || body != "the last poll failed: dial tcp 127.0.0.1:1: connect: connection refused␛[0m\n" {
		t.Errorf("healthz after failure: %d %q", code, body)
	}
}

func TestAccountNamesOptIn(t *testing.T) {
	m := New(Options{AccountNames: true, Clock: func() time.Time { return t0 }})
	accounts, js := fleet()
	accounts[1].Name = "bob\x1b[31m"
	// Quotes and backslashes come back from Prometheus' own parser as they went in.
	accounts[2].Name, accounts[2].Platform = `a "quoted" \ name`, `back\slash`
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	got := series(scrape(t, listen(t, m))["quotatop_account_info"])
	want := []string{"account_id=1,account_name=alice@example.com,platform=openai 1", "account_id=2,account_name=bob␛[31m,platform=anthropic 1",
		`account_id=3,account_name=a "quoted" \ name,platform=back\slash 1`}
	if !slices.Equal(got, want) {
		t.Errorf("info %q\nwant %q", got, want)
	}
}

func TestListenError(t *testing.T) {
	m := New(Options{})
	if _, err := m.Listen("127.0.0.1:99999"); err == nil || !strings.HasPrefix(err.Error(), "--metrics-listen 127.0.0.1:99999: ") {
		t.Errorf("err %v", err)
	}
}

// TestShippedRules parses contrib/prometheus/quotatop-rules.yml (promtool is not a Go
// dependency) and checks each rule names a metric this package exports.
func TestShippedRules(t *testing.T) {
	b, err := os.ReadFile("../contrib/prometheus/quotatop-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 1 || len(f.Groups[0].Rules) < 2 {
		t.Fatalf("rules %+v", f)
	}
	exported := []string{"quotatop_accounts", "quotatop_group_schedulable_accounts", "quotatop_group_accounts", "quotatop_storage_up"}
	for _, r := range f.Groups[0].Rules {
		if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
			t.Errorf("incomplete rule %+v", r)
		}
		if _, err := time.ParseDuration(r.For); err != nil {
			t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
		}
		if !slices.ContainsFunc(exported, func(m string) bool { return strings.Contains(r.Expr, m) }) {
			t.Errorf("%s uses no exported metric: %s", r.Alert, r.Expr)
		}
	}
}

// A time to pause is exported only for an account the gateway still schedules.
func TestTimeToPauseWhileScheduled(t *testing.T) {
	m := New(Options{Projector: projector{}, Clock: func() time.Time { return t0 }})
	base := listen(t, m)
	accounts, _ := fleet()
	accounts[0].Quota.Windows[0].UsedPercent = 50
	js := make([]model.Judgement, len(accounts))
	for i := range accounts {
		js[i] = model.Judge(&accounts[i], model.DefaultPolicy(), t0)
	}
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	if got := series(scrape(t, base)["quotatop_window_time_to_pause_seconds"]); !slices.Equal(got, []string{"account_id=1,window=7d 1500"}) {
		t.Fatalf("got %q", got)
	}
}

// An unreadable value is in no group, as in the JSON's groups: counted, it made a group
// 0 of platform "" with nothing schedulable, which set off the shipped alert rule.
func TestUnreadableValuesAreInNoGroup(t *testing.T) {
	m := New(Options{Clock: func() time.Time { return t0 }})
	base := listen(t, m)
	accounts, js := fleet()
	accounts = append(accounts, model.Account{ID: 4, Key: "sched:meta:4", Invalid: "not JSON at byte 0"}, model.Account{ID: 1e15, Key: "sched:meta:5", Platform: "openai", Invalid: "ID out of range"})
	for i := 3; i < len(accounts); i++ {
		js = append(js, model.Judge(&accounts[i], model.DefaultPolicy(), t0))
	}
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	fams := scrape(t, base)
	want := []string{"group=7,platform=anthropic 1", "group=7,platform=openai 1", "group=8,platform=anthropic 1", "group=8,platform=openai 1"}
	if got := series(fams["quotatop_group_accounts"]); !slices.Equal(got, want) {
		t.Fatalf("groups %q, want %q", got, want)
	}
	if got := series(fams["quotatop_accounts"]); !slices.Contains(got, "state=invalid 2") {
		t.Fatalf("the unreadable values are not counted by state: %q", got)
	}
}

// The threshold exported is the one the judgement pauses at (model.PausePoint): the
// lower of the auto-pause threshold, unless the window is exempt, and the scheduling
// threshold, which no exemption lifts. It used to be the auto-pause threshold alone, so
// an account paused at 93 % under openai=90 showed 0.95.
func TestThresholdIsThePausePoint(t *testing.T) {
	soon := t0.Add(time.Hour)
	sched90 := model.DefaultPolicy()
	sched90.SchedulingThresholds = map[string]float64{"openai": 90}
	gatewayDefault := model.DefaultPolicy()
	gatewayDefault.DefaultThreshold = [2]float64{0.85, 0}
	window := func(threshold float64, disabled bool) model.WindowSnapshot {
		return model.WindowSnapshot{Present: true, HasUsed: true, UsedPercent: 93, Threshold: threshold, Disabled: disabled,
			ResetAt: soon, HasResetAt: true, SchedResetAt: soon, HasSchedResetAt: true}
	}
	cases := []struct {
		name     string
		p        model.Policy
		platform string
		override int
		w        model.WindowSnapshot
		want     []string // nil: the series is absent
	}{
		{"scheduling threshold below the auto-pause one", sched90, "openai", 0, window(0.95, false), []string{"account_id=1,window=5h 0.9"}},
		{"auto-pause threshold below the scheduling one", sched90, "openai", 0, window(0.8, false), []string{"account_id=1,window=5h 0.8"}},
		{"exempt window: the scheduling threshold still pauses", sched90, "openai", 0, window(0.95, true), []string{"account_id=1,window=5h 0.9"}},
		{"exempt window and no scheduling threshold", model.DefaultPolicy(), "openai", 0, window(0.95, true), nil},
		{"no threshold at all", model.DefaultPolicy(), "openai", 0, window(0, false), nil},
		{"gateway default", gatewayDefault, "openai", 0, window(0, false), []string{"account_id=1,window=5h 0.85"}},
		{"the account's own scheduling threshold", model.DefaultPolicy(), "openai", 70, window(0.95, false), []string{"account_id=1,window=5h 0.7"}},
		{"no reset time: the scheduling threshold skips the window", sched90, "openai", 0,
			model.WindowSnapshot{Present: true, HasUsed: true, UsedPercent: 93, Threshold: 0.95}, []string{"account_id=1,window=5h 0.95"}},
		{"another platform: the quota rule does not run", model.DefaultPolicy(), "anthropic", 0, window(0.95, false), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &model.Quota{UpdatedAt: t0.Add(-time.Minute), HasUpdatedAt: true}
			q.Windows[0] = c.w
			accounts := []model.Account{{ID: 1, Platform: c.platform, Status: "active", Schedulable: true, Quota: q, SchedThresholdOverride: c.override}}
			js := []model.Judgement{model.Judge(&accounts[0], c.p, t0)}
			m := New(Options{Clock: func() time.Time { return t0 }})
			m.Update(t0, time.Millisecond, c.p, accounts, js)
			f := scrape(t, listen(t, m))["quotatop_window_threshold_ratio"]
			if got := series(f); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// The help says what the series hold: where the gateway stops scheduling, and that a
// poll's duration is the read alone (the judging is not timed by either caller).
func TestHelpTexts(t *testing.T) {
	m := New(Options{Clock: func() time.Time { return t0 }})
	accounts, js := fleet()
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	fams := scrape(t, listen(t, m))
	for name, want := range map[string][]string{
		"quotatop_window_threshold_ratio": {"stops scheduling", "auto-pause threshold", "scheduling threshold", "exempt", "absent when neither applies"},
		"quotatop_poll_duration_seconds":  {"read the fleet", "judging is not counted"},
	} {
		help := fams[name].GetHelp()
		for _, w := range want {
			if !strings.Contains(help, w) {
				t.Errorf("%s help %q does not say %q", name, help, w)
			}
		}
	}
}
