package report

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
)

// causesNow is the time the pause-cause tests judge at: whole seconds in UTC, so the
// expected times read as written.
var causesNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// schedPolicy is the default policy with OpenAI's scheduling threshold at 95 %.
func schedPolicy() model.Policy {
	p := model.DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"openai": 95, "anthropic": 100, "grok": 100}
	return p
}

// fresh5h is a Codex snapshot taken a minute before now whose 5h window is at used
// percent and resets at 12:00.
func fresh5h(used float64) *model.Quota {
	q := &model.Quota{UpdatedAt: causesNow.Add(-time.Minute), HasUpdatedAt: true}
	reset := causesNow.Add(2 * time.Hour)
	q.Windows[0] = model.WindowSnapshot{Present: true, HasUsed: true, UsedPercent: used, ResetAt: reset, HasResetAt: true,
		SchedResetAt: reset, HasSchedResetAt: true}
	return q
}

// The three pause causes are written as these exact objects, each only when it applies,
// after every field the document had before them, and as the reference encoder writes
// them.
func TestJSONPauseCauseObjects(t *testing.T) {
	now := causesNow
	daily := model.QuotaPeriod{Limit: 40, Used: 41.25, Start: now.Add(-9 * time.Hour)}  // rolling: ends at 01:00 tomorrow
	weekly := model.QuotaPeriod{Limit: 150, Used: 150, Start: now.Add(-50 * time.Hour)} // ends 2026-12-01 08:00
	tempUntil := now.Add(22 * time.Minute)
	quotaPause := model.TempBlock{Source: model.TempSourceSchedThreshold, Platform: "openai", Window: "5h", UsedPercent: 97.3, ThresholdPercent: 95}
	cases := []struct {
		name    string
		account model.Account
		policy  model.Policy
		want    []string // fragments of the account's text, in order
		absent  []string // fields it must not have
	}{
		{name: "scheduling threshold trips", policy: schedPolicy(),
			account: model.Account{Platform: "openai", Type: "oauth", Quota: fresh5h(98.6)},
			want: []string{`
      "scheduling_threshold": {
        "window": "5h",
        "used_percent": 98.6,
        "threshold_percent": 95,
        "until": "2026-11-26T12:00:00Z"
      }
    }`},
			absent: []string{"local_quota", "temp_block"}},
		{name: "the account's own scheduling threshold", policy: model.DefaultPolicy(),
			account: model.Account{Platform: "openai", Type: "oauth", Quota: fresh5h(90.5), SchedThresholdOverride: 90},
			want:    []string{`"window": "5h",` + "\n" + `        "used_percent": 90.5,` + "\n" + `        "threshold_percent": 90,`}},
		{name: "scheduling threshold under", policy: schedPolicy(),
			account: model.Account{Platform: "openai", Type: "oauth", Quota: fresh5h(94.9)},
			absent:  []string{"scheduling_threshold", "local_quota", "temp_block"}},
		{name: "scheduling threshold off", policy: model.DefaultPolicy(),
			account: model.Account{Platform: "openai", Type: "oauth", Quota: fresh5h(98.6)},
			absent:  []string{"scheduling_threshold"}},
		{name: "local quota over a day and a week", policy: model.DefaultPolicy(),
			account: model.Account{Platform: "openai", Type: "apikey", LocalQuota: &model.LocalQuota{Limit: 500, Used: 233.4, Daily: daily, Weekly: weekly}},
			want: []string{`"blocked_until": null,`, `
      "local_quota": {
        "exceeded": [
          "daily",
          "weekly"
        ],
        "dimension": "daily",
        "used_usd": 41.25,
        "limit_usd": 40,
        "free_at": "2026-12-01T08:00:00Z"
      }
    }`},
			absent: []string{"scheduling_threshold", "temp_block"}},
		{name: "local quota over its total", policy: model.DefaultPolicy(),
			account: model.Account{Platform: "anthropic", Type: "bedrock", LocalQuota: &model.LocalQuota{Limit: 500, Used: 500.5, Daily: daily}},
			want: []string{`
      "local_quota": {
        "exceeded": [
          "total",
          "daily"
        ],
        "dimension": "total",
        "used_usd": 500.5,
        "limit_usd": 500,
        "free_at": null
      }`}},
		{name: "local quota under", policy: model.DefaultPolicy(),
			account: model.Account{Platform: "openai", Type: "apikey", LocalQuota: &model.LocalQuota{Limit: 200, Used: 12.5, Daily: model.QuotaPeriod{Limit: 40, Used: 39.99, Start: now.Add(-time.Hour)}}},
			absent:  []string{"local_quota"}},
		{name: "local quota of an oauth account, which the gateway does not check", policy: model.DefaultPolicy(),
			account: model.Account{Platform: "openai", Type: "oauth", LocalQuota: &model.LocalQuota{Limit: 1, Used: 2}},
			absent:  []string{"local_quota"}},
		{name: "quota pause temp block", policy: model.DefaultPolicy(),
			account: model.Account{Platform: "openai", Type: "oauth", Blocks: &model.Blocks{TempUnschedulableUntil: tempUntil,
				TempUnschedulableReason: `{"source":"account_scheduling_threshold"}`, TempBlock: &quotaPause}},
			want: []string{`"blocked_until": "2026-11-26T10:22:00Z",`, `"temp_unschedulable_reason": "{\"source\":\"account_scheduling_threshold\"}",
      "temp_block": {
        "source": "account_scheduling_threshold",
        "window": "5h",
        "used_percent": 97.3,
        "threshold_percent": 95
      }
    }`},
			absent: []string{"scheduling_threshold", "local_quota"}},
		{name: "temp block strings are escaped", policy: model.DefaultPolicy(),
			account: model.Account{Blocks: &model.Blocks{TempBlock: &model.TempBlock{Source: model.TempSourceQuotaCounter, Window: "<5h> & \"q\" \\ ␛ 名"}}},
			want: []string{`
      "temp_block": {
        "source": "quota_counter",
        "window": "\u003c5h\u003e \u0026 \"q\" \\ ␛ 名",
        "used_percent": 0,
        "threshold_percent": 0
      }`}},
		{name: "temp block that is not a quota pause", policy: model.DefaultPolicy(),
			account: model.Account{Blocks: &model.Blocks{TempUnschedulableUntil: tempUntil, TempUnschedulableReason: "upstream 529"}},
			want:    []string{`"temp_unschedulable_reason": "upstream 529"` + "\n    }"},
			absent:  []string{"temp_block"}},
		{name: "all three", policy: schedPolicy(),
			account: model.Account{Platform: "openai", Type: "apikey", Quota: fresh5h(99), LocalQuota: &model.LocalQuota{Limit: 1, Used: 1},
				Blocks: &model.Blocks{TempBlock: &quotaPause, ModelLimits: []model.ModelLimit{{Model: "gpt-5", ResetAt: tempUntil}}}},
			want: []string{"\"model_rate_limits\": {\n        \"gpt-5\": \"2026-11-26T10:22:00Z\"\n      },\n      \"scheduling_threshold\": {",
				"\n      },\n      \"local_quota\": {", "\n      },\n      \"temp_block\": {", "\n      }\n    }"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.account
			a.ID, a.Key, a.Status, a.Schedulable = 42, "sched:meta:42", "active", true
			rows := Judge([]model.Account{a}, c.policy, now)
			h := Header{GeneratedAt: now, Source: "redis://x", Prefix: "sched:"}
			var got, want bytes.Buffer
			if err := writeJSON(&got, h, rows); err != nil {
				t.Fatal(err)
			}
			if err := referenceJSON(&want, h, rows); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("against the reference: %s", firstDifference(got.Bytes(), want.Bytes()))
			}
			doc := got.String()
			at := 0
			for _, f := range c.want {
				i := strings.Index(doc[at:], f)
				if i < 0 {
					t.Fatalf("missing (or out of order) %q in\n%s", f, doc)
				}
				at += i + len(f)
			}
			for _, name := range c.absent {
				if strings.Contains(doc, `"`+name+`":`) {
					t.Errorf("%s is present:\n%s", name, doc)
				}
			}
		})
	}
}

// causesDoc is the part of the document the demo test reads, spelled out here rather
// than borrowed from the reference encoder.
type causesDoc struct {
	Accounts []struct {
		Name           string     `json:"name"`
		Reasons        []string   `json:"reasons"`
		BlockedUntil   *time.Time `json:"blocked_until"`
		SchedThreshold *struct {
			Window           string    `json:"window"`
			UsedPercent      float64   `json:"used_percent"`
			ThresholdPercent float64   `json:"threshold_percent"`
			Until            time.Time `json:"until"`
		} `json:"scheduling_threshold"`
		LocalQuota *struct {
			Exceeded  []string   `json:"exceeded"`
			Dimension string     `json:"dimension"`
			UsedUSD   float64    `json:"used_usd"`
			LimitUSD  float64    `json:"limit_usd"`
			FreeAt    *time.Time `json:"free_at"`
		} `json:"local_quota"`
		TempBlock *struct {
			Source           string  `json:"source"`
			Window           string  `json:"window"`
			UsedPercent      float64 `json:"used_percent"`
			ThresholdPercent float64 `json:"threshold_percent"`
		} `json:"temp_block"`
	} `json:"accounts"`
}

// The demo fleet, read as quotatop reads the gateway and judged under OpenAI's
// scheduling threshold at 95 %, tells what pauses its cause accounts.
func TestJSONPauseCausesOfDemoFleet(t *testing.T) {
	now := causesNow
	accounts := demo.Accounts(now)
	rows := Judge(accounts, schedPolicy(), now)
	h := Header{GeneratedAt: now, Source: "demo", Prefix: "sched:"}
	var got, want bytes.Buffer
	if err := Write(&got, "json", h, rows); err != nil {
		t.Fatal(err)
	}
	if err := referenceJSON(&want, h, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("against the reference: %s", firstDifference(got.Bytes(), want.Bytes()))
	}
	var doc causesDoc
	if err := json.Unmarshal(got.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, a := range doc.Accounts {
		byName[a.Name] = i
	}
	account := func(name string) *model.Account {
		for i := range accounts {
			if accounts[i].Name == name {
				return &accounts[i]
			}
		}
		t.Fatalf("the demo has no %s", name)
		return nil
	}
	get := func(name string) int {
		i, ok := byName[name]
		if !ok {
			t.Fatalf("the document has no %s", name)
		}
		return i
	}

	sched := doc.Accounts[get("codex-sched-thr")]
	reset5h := account("codex-sched-thr").Quota.Windows[0].SchedResetAt
	if st := sched.SchedThreshold; st == nil || st.Window != "5h" || st.UsedPercent != 98.6 || st.ThresholdPercent != 95 ||
		!st.Until.Equal(reset5h) || !st.Until.After(now) {
		t.Errorf("codex-sched-thr scheduling_threshold: %+v, want 5h 98.6 >= 95 until %v", st, reset5h)
	}
	if sched.LocalQuota != nil || sched.TempBlock != nil {
		t.Errorf("codex-sched-thr: local_quota %+v, temp_block %+v", sched.LocalQuota, sched.TempBlock)
	}

	relay := doc.Accounts[get("relay-daily-cap")]
	free := now.Add(15 * time.Hour) // a rolling day that started 9 hours ago
	if lq := relay.LocalQuota; lq == nil || strings.Join(lq.Exceeded, ",") != "daily" || lq.Dimension != "daily" ||
		lq.UsedUSD != 41.25 || lq.LimitUSD != 40 || lq.FreeAt == nil || !lq.FreeAt.Equal(free) {
		t.Errorf("relay-daily-cap local_quota: %+v, want daily 41.25 of 40, free at %v", lq, free)
	}
	if relay.BlockedUntil != nil {
		t.Errorf("relay-daily-cap blocked_until %v: it covers the timed blocks only", relay.BlockedUntil)
	}

	temp := doc.Accounts[get("codex-pro-33")]
	if b := temp.TempBlock; b == nil || b.Source != "account_scheduling_threshold" || b.Window != "5h" || b.UsedPercent != 97.3 || b.ThresholdPercent != 95 {
		t.Errorf("codex-pro-33 temp_block: %+v", b)
	}
	if temp.BlockedUntil == nil || !temp.BlockedUntil.Equal(now.Add(22*time.Minute)) {
		t.Errorf("codex-pro-33 blocked_until %v", temp.BlockedUntil)
	}

	// A quota under its limit, a healthy account: none of the three.
	for _, name := range []string{"relay-apikey-38", "codex-pro-01"} {
		a := doc.Accounts[get(name)]
		if a.SchedThreshold != nil || a.LocalQuota != nil || a.TempBlock != nil {
			t.Errorf("%s: scheduling_threshold %+v, local_quota %+v, temp_block %+v", name, a.SchedThreshold, a.LocalQuota, a.TempBlock)
		}
	}
	// Each object stands for its reason.
	for _, a := range doc.Accounts {
		has := func(r model.Reason) bool { return slices.Contains(a.Reasons, string(r)) }
		if (a.SchedThreshold != nil) != (has(model.ReasonSchedThreshold5h) || has(model.ReasonSchedThreshold7d)) {
			t.Errorf("%s: scheduling_threshold %+v with reasons %v", a.Name, a.SchedThreshold, a.Reasons)
		}
		if (a.LocalQuota != nil) != has(model.ReasonLocalQuota) {
			t.Errorf("%s: local_quota %+v with reasons %v", a.Name, a.LocalQuota, a.Reasons)
		}
	}
}

// The pause causes are appended to the account's buffer like every other field: writing
// accounts that have all three allocates nothing once the buffer has grown.
func TestJSONPauseCausesAllocateNothing(t *testing.T) {
	now := causesNow
	tb := model.TempBlock{Source: model.TempSourceOpenAIQuota, Window: "7d", UsedPercent: 99.5, ThresholdPercent: 98}
	accounts := []model.Account{
		{ID: 1, Platform: "openai", Type: "apikey", Status: "active", Schedulable: true, Quota: fresh5h(99),
			LocalQuota: &model.LocalQuota{Limit: 10, Used: 11, Daily: model.QuotaPeriod{Limit: 1, Used: 2, Start: now.Add(-time.Hour)}},
			Blocks:     &model.Blocks{TempUnschedulableUntil: now.Add(time.Minute), TempUnschedulableReason: "{}", TempBlock: &tb}},
		{ID: 2, Platform: "openai", Type: "bedrock", Status: "active", Schedulable: true,
			LocalQuota: &model.LocalQuota{Weekly: model.QuotaPeriod{Limit: 1, Used: 2, Start: now.Add(-time.Hour)}}},
	}
	rows := Judge(accounts, schedPolicy(), now)
	if !rows[0].Judgement.SchedThreshold.Tripped || !rows[0].Judgement.LocalQuota.Exceeded || !rows[1].Judgement.LocalQuota.Exceeded {
		t.Fatal("the accounts do not have the causes this test is about")
	}
	e := jsonWriter{b: make([]byte, 0, 16<<10)}
	n := testing.AllocsPerRun(100, func() {
		e.b = e.b[:0]
		for i := range rows {
			e.account(&rows[i], now, "")
		}
	})
	if e.err != nil || !strings.Contains(string(e.b), `"temp_block"`) {
		t.Fatalf("%v\n%s", e.err, e.b)
	}
	if n != 0 {
		t.Errorf("writing %d accounts allocates %v times", len(rows), n)
	}
}

// A temp block's strings come from storage: whatever they hold, and whatever the numbers,
// the writer writes what the reference encoder writes.
func FuzzJSONTempBlock(f *testing.F) {
	f.Add("5h", "openai_quota_auto_pause", 97.3, 95.0)
	f.Add("a<b>&\"c\" \\ \x01 \u2028 名 \xff", "", 1e-7, 1e21)
	f.Add("", "quota_counter", math.Copysign(0, -1), 123456789.125)
	f.Fuzz(func(t *testing.T, window, source string, used, threshold float64) {
		if !finite(used) || !finite(threshold) {
			t.Skip("encoding/json refuses what the writer writes as null")
		}
		tb := model.TempBlock{Source: source, Window: window, UsedPercent: used, ThresholdPercent: threshold}
		rows := Judge([]model.Account{{ID: 1, Blocks: &model.Blocks{TempBlock: &tb}}}, model.DefaultPolicy(), causesNow)
		h := Header{GeneratedAt: causesNow}
		var got, want bytes.Buffer
		if err := writeJSON(&got, h, rows); err != nil {
			t.Fatal(err)
		}
		if err := referenceJSON(&want, h, rows); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("against the reference: %s", firstDifference(got.Bytes(), want.Bytes()))
		}
	})
}
