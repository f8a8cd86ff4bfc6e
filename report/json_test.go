package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/source/redistest"
	"github.com/quotatop/quotatop/trend"
)

// The streaming writer must produce exactly what the reflection-based encoder that first
// defined the format produced, on a dirty fleet and on hand-made edge cases.
func TestJSONMatchesReferenceEncoder(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var accounts []model.Account
	fleet := redistest.DirtyFleet(500, "sched:", now)
	keys := make([]string, 0, len(fleet))
	for k := range fleet {
		if strings.HasPrefix(k, "sched:meta:") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		accounts = append(accounts, source.DecodeMeta(k, fleet[k]))
	}
	q := &model.Quota{UpdatedAt: now.Add(-time.Minute), HasUpdatedAt: true}
	q.Windows[0] = model.WindowSnapshot{Present: true, UsedPercent: 1e-7, Threshold: 0.95, ResetAt: now.Add(time.Hour), HasResetAt: true}
	q.Windows[1] = model.WindowSnapshot{Present: true, UsedPercent: 1e22, Threshold: 1.0 / 3}
	zero := &model.Quota{HasUpdatedAt: true}
	sched := &model.Quota{UpdatedAt: now.Add(-30 * time.Second), HasUpdatedAt: true}
	sched.Windows[1] = model.WindowSnapshot{Present: true, HasUsed: true, UsedPercent: 91.25, SchedResetAt: now.Add(50 * time.Hour), HasSchedResetAt: true}
	accounts = append(accounts,
		model.Account{ID: 900001, Key: "sched:meta:900001", Name: "a<b>&c \"q\" \\ \t\n\r\b\f\x01\x1f \u2028\u2029 名前 \xff\xfe", Quota: q,
			GroupIDs: []int64{5, -1, 1 << 60}, Status: "active", Schedulable: true, Platform: "openai",
			Blocks: &model.Blocks{TempUnschedulableReason: "{\"why\":\"<x>\"}", TempUnschedulableUntil: now.Add(time.Minute),
				ModelLimits: []model.ModelLimit{{Model: "z", ResetAt: now.Add(time.Hour)}, {Model: "a", ResetAt: now.Add(2 * time.Hour)},
					{Model: "z", ResetAt: now.Add(3 * time.Hour)}, {Model: "old", ResetAt: now.Add(-time.Hour)}}}},
		model.Account{ID: 900002, Key: "sched:meta:900002", Quota: zero, LastUsedAt: time.Date(1, 1, 1, 0, 0, 1, 5, time.UTC)},
		model.Account{ID: 900003, Key: "sched:meta:900003", Invalid: "not valid JSON: <bad>", Blocks: &model.Blocks{OverloadUntil: now.Add(time.Second)}},
		model.Account{ID: -4, Key: "", Name: "", Quota: &model.Quota{}},
		// Other platforms' windows, with and without a sample time and a threshold.
		model.Account{ID: 900005, Key: "sched:meta:900005", Platform: "anthropic", Status: "active", Schedulable: true,
			ProviderUsage: &model.ProviderUsage{Provider: "anthropic", SampledAt: now.Add(-90 * time.Second), HasSampledAt: true,
				Windows: [2]model.ProviderWindow{{HasUsed: true, UsedPercent: 93, ResetAt: now.Add(time.Hour), HasResetAt: true}, {HasUsed: true, UsedPercent: 40.5}}}},
		model.Account{ID: 900006, Key: "sched:meta:900006", Platform: "kimi", Status: "active", Schedulable: true,
			ProviderUsage: &model.ProviderUsage{Provider: "kimi",
				Windows: [2]model.ProviderWindow{{}, {HasUsed: true, UsedPercent: 70, ResetAt: now.Add(-time.Hour), HasResetAt: true}}}},
		// IDs claimed by two keys and by three.
		model.Account{ID: 15, Key: "sched:v2:meta:15", Name: "dup <15>", Platform: "openai", Status: "active"},
		model.Account{ID: 900003, Key: "sched:x:meta:900003"},
		model.Account{ID: 900003, Key: "sched:\"y\":meta:900003"},
		// Pause causes: local quotas over every dimension, over two with odd numbers, and
		// under; the account's own scheduling threshold; a quota pause's temp block whose
		// strings need escaping.
		model.Account{ID: 900010, Key: "sched:meta:900010", Platform: "openai", Type: "apikey", Status: "active", Schedulable: true,
			LocalQuota: &model.LocalQuota{Limit: 10, Used: 10.5, Daily: model.QuotaPeriod{Limit: 2, Used: 3, Start: now.Add(-time.Hour)},
				Weekly: model.QuotaPeriod{Limit: 5, Used: 5, Start: now.Add(-time.Hour)}}},
		model.Account{ID: 900011, Key: "sched:meta:900011", Platform: "anthropic", Type: "bedrock", Status: "active", Schedulable: true,
			LocalQuota: &model.LocalQuota{Daily: model.QuotaPeriod{Limit: 1e-7, Used: 1e22, Start: now.Add(-time.Hour), Fixed: true, ResetHour: 4},
				Weekly: model.QuotaPeriod{Limit: 1.0 / 3, Used: 1, Start: now.Add(-48 * time.Hour)}, Zone: time.FixedZone("X", -5*3600)}},
		model.Account{ID: 900012, Key: "sched:meta:900012", Type: "apikey", LocalQuota: &model.LocalQuota{Limit: 100, Used: 1}},
		model.Account{ID: 900013, Key: "sched:meta:900013", Platform: "openai", Status: "active", Schedulable: true, SchedThresholdOverride: 90, Quota: sched},
		model.Account{ID: 900014, Key: "sched:meta:900014", Blocks: &model.Blocks{TempUnschedulableUntil: now.Add(time.Minute), TempUnschedulableReason: "{\"source\":\"quota_counter\"}",
			TempBlock: &model.TempBlock{Source: model.TempSourceQuotaCounter, Window: "a<b>&\"c\" \\ 名 \u2028", UsedPercent: 1e-7, ThresholdPercent: 1e21}}},
	)
	thresholds := map[string]float64{"openai": 100, "anthropic": 90, "kimi": 50}
	for _, policy := range []model.Policy{model.DefaultPolicy(), {StaleAfter: time.Minute, DefaultThreshold: [2]float64{0.5, 0.8}, WarnPercent: 10, MissingTimestampStale: true, SchedulingThresholds: thresholds},
		{StaleAfter: 2 * time.Hour, WarnPercent: 80, SchedulingThresholds: map[string]float64{"openai": 95, "anthropic": 50, "kimi": 50}}} {
		rows := Judge(accounts, policy, now)
		// Each pause cause is written for some accounts and left out for others.
		var causes [3]int
		for _, r := range rows {
			for i, has := range [3]bool{r.Judgement.SchedThreshold.Tripped, r.Judgement.LocalQuota.Exceeded, r.Account.Block().TempBlock != nil} {
				if has {
					causes[i]++
				}
			}
		}
		for i, n := range causes {
			if n == 0 || n == len(rows) {
				t.Fatalf("pause cause %d is written for %d of %d accounts", i, n, len(rows))
			}
		}
		for n, rs := range [][]Row{rows, nil, rows[:1]} {
			h := Header{GeneratedAt: now, Source: "redis://127.0.0.1:6379/0?x=<&>", Prefix: "sched:"}
			if n > 0 {
				h.ThresholdsSource, h.ThresholdsError, h.GatewayVersion = "flags", "401 \"no\" <x>", "0.1.180"
			}
			var got, want bytes.Buffer
			if err := writeJSON(&got, h, rs); err != nil {
				t.Fatal(err)
			}
			if err := referenceJSON(&want, h, rs); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				g, w := got.String(), want.String()
				at := 0
				for at < min(len(g), len(w)) && g[at] == w[at] {
					at++
				}
				t.Fatalf("output differs at byte %d:\ngot  %q\nwant %q", at, g[max(at-200, 0):min(at+200, len(g))], w[max(at-200, 0):min(at+200, len(w))])
			}
		}
	}
}

// A number that is not finite, which encoding/json refuses, costs only itself: the JSON
// document still parses with null there, a CSV cell is empty, a table cell a dash.
func TestNonFiniteNumbersWriteAsNothing(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	q := &model.Quota{HasUpdatedAt: true, UpdatedAt: now.Add(-time.Minute)}
	q.Windows[0] = model.WindowSnapshot{Present: true, UsedPercent: 50, Threshold: 0.9}
	q.Windows[1] = model.WindowSnapshot{Present: true, UsedPercent: 20, Threshold: 0.9}
	tb := &model.TempBlock{Source: model.TempSourceQuotaCounter, UsedPercent: math.NaN(), ThresholdPercent: math.Inf(1)}
	rows := Judge([]model.Account{{ID: 1, Key: "sched:meta:1", Quota: q, Blocks: &model.Blocks{TempBlock: tb}}, {ID: 2, Key: "sched:meta:2", Quota: q}}, model.DefaultPolicy(), now)
	j := &rows[0].Judgement
	w := &j.Windows
	w[0].UsedPercent, w[0].Threshold, w[1].UsedPercent = math.NaN(), math.Inf(1), math.Inf(-1)
	j.SchedThreshold = model.SchedThresholdJudgement{Tripped: true, Window: model.Window5h, UsedPercent: math.Inf(1), ThresholdPercent: math.NaN()}
	j.LocalQuota = model.LocalQuotaJudgement{Exceeded: true, Dim: model.LocalQuotaTotal, Used: math.NaN(), Limit: math.Inf(-1)}
	f := &trend.Forecast{}
	f.Windows[0] = trend.Window{Status: trend.StatusRate, Rate: math.NaN(), Projected: math.Inf(1), HasProjected: true}
	rows[0].Forecast = f

	var b bytes.Buffer
	if err := Write(&b, "json", Header{GeneratedAt: now}, rows); err != nil {
		t.Fatalf("the document failed: %v", err)
	}
	var doc struct {
		Accounts []struct {
			ID             int64
			Windows        map[string]map[string]any
			SchedThreshold map[string]any `json:"scheduling_threshold"`
			LocalQuota     map[string]any `json:"local_quota"`
			TempBlock      map[string]any `json:"temp_block"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("the document does not parse: %v\n%s", err, b.String())
	}
	if len(doc.Accounts) != 2 {
		t.Fatalf("%d accounts, want 2", len(doc.Accounts))
	}
	ws := doc.Accounts[0].Windows
	for _, field := range []struct{ window, name string }{{"5h", "used_percent"}, {"5h", "threshold_percent"}, {"7d", "used_percent"},
		{"5h", "rate_percent_per_hour"}, {"5h", "projected_percent_at_reset"}} {
		if v, ok := ws[field.window][field.name]; !ok || v != nil {
			t.Errorf("%s %s: %v (present %v), want null", field.window, field.name, v, ok)
		}
	}
	a := doc.Accounts[0]
	for _, field := range []struct {
		object map[string]any
		name   string
	}{{a.SchedThreshold, "used_percent"}, {a.SchedThreshold, "threshold_percent"}, {a.LocalQuota, "used_usd"}, {a.LocalQuota, "limit_usd"},
		{a.TempBlock, "used_percent"}, {a.TempBlock, "threshold_percent"}} {
		if v, ok := field.object[field.name]; !ok || v != nil {
			t.Errorf("%s: %v (present %v), want null", field.name, v, ok)
		}
	}
	if v := doc.Accounts[1].Windows["5h"]["used_percent"]; v != 50.0 {
		t.Errorf("the next account's used_percent: %v", v)
	}

	b.Reset()
	if err := Write(&b, "csv", Header{GeneratedAt: now}, rows); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(csvHeader, name) }
	for _, name := range []string{"used_5h", "threshold_5h", "used_7d"} {
		if v := records[1][col(name)]; v != "" {
			t.Errorf("CSV %s: %q, want an empty cell", name, v)
		}
	}
	if v := records[1][col("threshold_7d")]; v != "90" {
		t.Errorf("CSV threshold_7d: %q", v)
	}

	b.Reset()
	if err := Write(&b, "table", Header{GeneratedAt: now}, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if line := strings.Split(b.String(), "\n")[1]; strings.Contains(line, "NaN") || strings.Contains(line, "Inf") || !strings.Contains(line, " - ") {
		t.Errorf("table row %q", line)
	}
}

// BenchmarkJSON writes 10,000 judged accounts; its floor is the reference encoder.
func BenchmarkJSON(b *testing.B) {
	now := time.Now()
	fleet := redistest.DirtyFleet(10000, "sched:", now)
	var accounts []model.Account
	for k, v := range fleet {
		if strings.HasPrefix(k, "sched:meta:") {
			accounts = append(accounts, source.DecodeMeta(k, v))
		}
	}
	rows := Judge(accounts, model.DefaultPolicy(), now)
	h := Header{GeneratedAt: now, Source: "redis://x", Prefix: "sched:"}
	b.Run("reference", func(b *testing.B) {
		for b.Loop() {
			referenceJSON(io.Discard, h, rows)
		}
	})
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			writeJSON(io.Discard, h, rows)
		}
	})
}

// A time past year 9999 is refused as the reference encoder refuses it.
func TestJSONRefusesUnwritableYears(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC)} {
		rows := Judge([]model.Account{{ID: 1, LastUsedAt: at}}, model.DefaultPolicy(), now)
		h := Header{GeneratedAt: now}
		got, want := writeJSON(io.Discard, h, rows), referenceJSON(io.Discard, h, rows)
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Fatalf("%v: got %v, want %v", at, got, want)
		}
	}
}

// round2 rounds as formatting to two decimals and parsing back does, without allocating
// for the usual values.
func TestRound2(t *testing.T) {
	values := []float64{0, math.Copysign(0, -1), 0.005, 0.015, 1.005, 2.675, -3.14159, 99.995, 123456.789, 1e20, 1e300, -1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64}
	for i := range 2000 {
		values = append(values, float64(i)*0.0137-7, float64(i)*float64(i)*1.0001)
	}
	for _, v := range values {
		want, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
		if got := round2(v); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("round2(%v) = %v, want %v", v, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { round2(42.4242) }); n != 0 {
		t.Errorf("round2 allocates %v times", n)
	}
}
