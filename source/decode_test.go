package source

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// Canary is the secret the apikey fixture carries; no output may ever contain it.
const Canary = "sk-live-THIS-MUST-NEVER-BE-SHOWN"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures are copied from ../shared/fixtures so the tests are hermetic; where the
// shared folder is present, the copies must still match it.
func TestFixturesMatchShared(t *testing.T) {
	shared := filepath.Join("..", "..", "shared", "fixtures")
	files, _ := filepath.Glob(filepath.Join(shared, "*.json"))
	if len(files) == 0 {
		t.Skip("../shared/fixtures not present")
	}
	for _, f := range files {
		want, _ := os.ReadFile(f)
		if got := fixture(t, filepath.Base(f)); !bytes.Equal(got, want) {
			t.Errorf("testdata/fixtures/%s differs from %s: copy it again", filepath.Base(f), f)
		}
	}
}

func TestDecodeOAuthFixture(t *testing.T) {
	a := DecodeMeta("sched:meta:42", string(fixture(t, "sched-meta-openai-oauth.json")))
	if a.Invalid != "" || a.ID != 42 || a.Name != "codex-pro-07" || a.Platform != "openai" || a.Type != "oauth" || a.Status != "active" || !a.Schedulable {
		t.Fatalf("identity: %+v", a)
	}
	q := a.Quota
	if q == nil || !q.HasUpdatedAt || !q.UpdatedAt.Equal(time.Date(2026, 8, 21, 12, 29, 10, 0, time.UTC)) {
		t.Fatalf("snapshot time: %+v", q)
	}
	w5, w7 := q.Windows[0], q.Windows[1]
	if w5.UsedPercent != 37 || w5.Threshold != 0.95 || w5.ResetAfterSeconds != 9120 || !w5.ResetAt.Equal(time.Date(2026, 8, 21, 15, 1, 10, 0, time.UTC)) || w5.Disabled {
		t.Fatalf("5h: %+v", w5)
	}
	if w7.UsedPercent != 81.5 || !w7.Disabled || w7.Threshold != 0 {
		t.Fatalf("7d: %+v", w7)
	}
	if !slices.Equal(a.GroupIDs, []int64{3}) || a.Concurrency != 3 || a.Priority != 1 || !a.AutoPauseOnExpired {
		t.Fatalf("attributes: %+v", a)
	}
	// Ten minutes after the snapshot: 37 % is under 95 %, and the 7d window is exempt
	// (81.5 % is still over the warn level).
	j := model.Judge(&a, model.DefaultPolicy(), q.UpdatedAt.Add(10*time.Minute))
	if j.State != model.StateWarn || !slices.Equal(j.Reasons, []model.Reason{model.ReasonNear7d}) || j.Windows[1].Verdict != model.VerdictExempt {
		t.Fatalf("judgement: %s %v %+v", j.State, j.Reasons, j.Windows[1])
	}
}

func TestDecodeAPIKeyFixtureDropsCredentials(t *testing.T) {
	a := DecodeMeta("sched:meta:77", string(fixture(t, "sched-meta-openai-apikey-secret.json")))
	if a.ID != 77 || a.Type != "apikey" || a.Quota != nil {
		t.Fatalf("%+v", a)
	}
	if !a.Block().RateLimitResetAt.Equal(time.Date(2026, 8, 21, 13, 10, 0, 0, time.UTC)) {
		t.Fatalf("rate limit: %v", a.Block().RateLimitResetAt)
	}
	j := model.Judge(&a, model.DefaultPolicy(), time.Date(2026, 8, 21, 12, 30, 0, 0, time.UTC))
	if j.State != model.StateBlocked || j.MainReason() != model.ReasonRateLimited {
		t.Fatalf("%s %v", j.State, j.Reasons)
	}
	if strings.Contains(strings.ToLower(dump(a)), "sk-live") {
		t.Fatal("the decoded account carries the api key")
	}
}

func TestDecodeQuirksFixture(t *testing.T) {
	a := DecodeMeta("sched:meta:1203", string(fixture(t, "sched-meta-openai-quirks.json")))
	if a.Invalid != "" || a.ID != 1203 {
		t.Fatalf("ID as a string: %+v", a)
	}
	if a.Name != "codex-team-␛[31mred␛[0m-11" || strings.ContainsRune(a.Name, 0x1b) {
		t.Fatalf("name not neutralised: %q", a.Name)
	}
	q := a.Quota
	if q.HasUpdatedAt {
		t.Fatal("missing codex_usage_updated_at decoded as present")
	}
	w5, w7 := q.Windows[0], q.Windows[1]
	if w5.UsedPercent != 99.2 || w5.ResetAfterSeconds != 600 || w5.Threshold != 0.9 || w5.Disabled {
		t.Fatalf("5h numeric strings: %+v", w5)
	}
	if w7.UsedPercent != 101 || w7.Threshold != 1 || w7.Disabled || !w7.ResetAt.Equal(time.Date(2026, 8, 22, 4, 0, 0, 123456789, time.UTC)) {
		t.Fatalf("7d: clamp 95 -> 1.0, nanosecond UTC time: %+v", w7)
	}
	if len(a.Block().ModelLimits) != 1 || a.Block().ModelLimits[0].Model != "openai:image_generation" {
		t.Fatalf("model limits: %+v", a.Block().ModelLimits)
	}
	if !strings.Contains(a.Block().TempUnschedulableReason, `"window":"5h"`) {
		t.Fatalf("temp reason: %q", a.Block().TempUnschedulableReason)
	}
	now := time.Date(2026, 8, 21, 12, 30, 0, 0, time.UTC) // 20:30 +08:00
	j := model.Judge(&a, model.DefaultPolicy(), now)
	want := []model.Reason{model.ReasonTempUnschedulable, model.ReasonQuota5h, model.ReasonQuota7d, model.ReasonNoTimestamp, model.ReasonModelRateLimited}
	if j.State != model.StateBlocked || !slices.Equal(j.Reasons, want) {
		t.Fatalf("got %s %v, want blocked %v", j.State, j.Reasons, want)
	}
	stale := model.DefaultPolicy()
	stale.MissingTimestampStale = true
	j = model.Judge(&a, stale, now)
	if !j.Has(model.ReasonStale5h) || !j.Has(model.ReasonStale7d) || j.Has(model.ReasonQuota5h) {
		t.Fatalf("missing timestamp as stale: %v", j.Reasons)
	}
}

func TestDecodeAnthropicFixture(t *testing.T) {
	a := DecodeMeta("sched:meta:9", string(fixture(t, "sched-meta-anthropic-oauth.json")))
	if a.Platform != "anthropic" || a.Status != "error" || a.Quota != nil || a.Block().OverloadUntil.IsZero() {
		t.Fatalf("%+v", a)
	}
	j := model.Judge(&a, model.DefaultPolicy(), time.Date(2026, 8, 21, 12, 0, 0, 0, time.UTC))
	if j.State != model.StateError || !slices.Equal(j.Reasons, []model.Reason{model.ReasonError, model.ReasonOverloaded}) {
		t.Fatalf("%s %v", j.State, j.Reasons)
	}
}

func TestDecodeBadValues(t *testing.T) {
	cases := map[string]string{
		"truncated":   `{"ID":5,"Name":"x","Extra":{`,
		"not object":  `[1,2,3]`,
		"string":      `"hello"`,
		"empty":       ``,
		"ID is words": `{"ID":"forty-two"}`,
	}
	for name, raw := range cases {
		a := DecodeMeta("sched:meta:5", raw)
		if a.Invalid == "" || a.ID != 5 {
			t.Errorf("%s: want invalid account 5, got %+v", name, a)
		}
		if model.Judge(&a, model.DefaultPolicy(), time.Now()).State != model.StateInvalid {
			t.Errorf("%s: not judged invalid", name)
		}
	}
	// Wrong types in single fields degrade that field only.
	a := DecodeMeta("sched:meta:6", `{"ID":6,"Name":{"x":1},"Schedulable":"true","Extra":"nope","GroupIDs":"1,2","OverloadUntil":12}`)
	if a.Invalid != "" || a.Name != "" || !a.Schedulable || a.Quota != nil || a.GroupIDs != nil || !a.Block().OverloadUntil.IsZero() {
		t.Fatalf("%+v", a)
	}
	// A key without a numeric suffix still works when the value names its ID.
	if a := DecodeMeta("sched:meta:odd", `{"ID":"77"}`); a.Invalid != "" || a.ID != 77 {
		t.Fatalf("%+v", a)
	}
	if a := DecodeMeta("sched:meta:odd", `{"Name":"x"}`); a.Invalid == "" {
		t.Fatal("an account with no ID anywhere must be invalid")
	}
}

// Each form the gateway's helpers accept, decoded and judged end to end.
func TestExtraForms(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	fresh := `"codex_usage_updated_at":"2026-11-26T17:55:00+08:00"`
	judge := func(extra string) model.Judgement {
		a := DecodeMeta("sched:meta:1", `{"ID":1,"Platform":"openai","Status":"active","Schedulable":true,"Extra":{`+extra+`}}`)
		if a.Invalid != "" {
			t.Fatalf("%s: %s", extra, a.Invalid)
		}
		return model.Judge(&a, model.DefaultPolicy(), now)
	}
	paused := func(extra string) bool { return judge(extra).State == model.StatePaused }

	for _, v := range []string{`true`, `"true"`, `"1"`, `"t"`, `"TRUE"`, `" True "`, `1`, `-1`, `0.5`} {
		if paused(fresh + `,"codex_5h_used_percent":99,"auto_pause_5h_threshold":0.9,"auto_pause_5h_disabled":` + v) {
			t.Errorf("disabled=%s should exempt the window", v)
		}
	}
	for _, v := range []string{`false`, `"false"`, `"0"`, `"yes"`, `""`, `0`, `null`, `{}`, `[]`} {
		if !paused(fresh + `,"codex_5h_used_percent":99,"auto_pause_5h_threshold":0.9,"auto_pause_5h_disabled":` + v) {
			t.Errorf("disabled=%s should not exempt the window", v)
		}
	}
	for used, want := range map[string]bool{`"99"`: true, `" 99.5 "`: true, `99`: true, `"ninety"`: false, `true`: false, `"0"`: false, `-3`: false, `"1e2"`: true} {
		if got := paused(fresh + `,"codex_5h_used_percent":` + used + `,"auto_pause_5h_threshold":0.9`); got != want {
			t.Errorf("used=%s: paused=%v, want %v", used, got, want)
		}
	}
	for th, want := range map[string]bool{`"0.9"`: true, `95`: false, `"95"`: false, `1`: false, `0`: false, `-1`: false, `"x"`: false, `0.99`: true} {
		if got := paused(fresh + `,"codex_5h_used_percent":99.5,"auto_pause_5h_threshold":` + th); got != want {
			t.Errorf("threshold=%s: paused=%v, want %v", th, got, want)
		}
	}
	// reset_after_seconds is an integer to the gateway: "600.5" is no reset time at all.
	base := `"codex_usage_updated_at":"2026-11-26T09:50:00Z","codex_5h_used_percent":99,"auto_pause_5h_threshold":0.9,"codex_5h_reset_after_seconds":`
	for v, want := range map[string]bool{`600`: false, `"600"`: false, `599.9`: false, `"600.5"`: true, `601`: true, `"abc"`: true} {
		if got := paused(base + v); got != want {
			t.Errorf("reset_after=%s: paused=%v, want %v", v, got, want)
		}
	}
	// An unparseable reset_at falls back to reset_after_seconds.
	if paused(base + `60,"codex_5h_reset_at":"soon"`) {
		t.Error("unparseable reset_at must fall back to reset_after_seconds")
	}
	// A stored zero time is a real (ancient) time to the gateway: the snapshot is stale.
	if j := judge(`"codex_usage_updated_at":"0001-01-01T00:00:00Z","codex_5h_used_percent":99,"auto_pause_5h_threshold":0.9`); j.State != model.StateStaleProbe {
		t.Errorf("zero updated_at: %s %v", j.State, j.Reasons)
	}
	// Times parse exactly as the gateway's time.Parse(RFC3339) does: an offset and the
	// 'T' are required, nothing is trimmed.
	for ts, want := range map[string]bool{"2026-11-26T09:55:00.000Z": true, "2026-11-26T17:55:00.123456789+08:00": true,
		"2026-11-26 09:55:00": false, "2026-11-26T09:55:00": false, " 2026-11-26T09:55:00Z": false, "1764150900": false} {
		if got := judge(`"codex_usage_updated_at":"` + ts + `"`).HasTimestamp; got != want {
			t.Errorf("timestamp %q parsed=%v, want %v", ts, got, want)
		}
	}
	// An offset-less time is "missing" to the gateway: fresh, so the account stays paused.
	if j := judge(`"codex_usage_updated_at":"2026-11-26T05:00:00","codex_5h_used_percent":99,"auto_pause_5h_threshold":0.9`); j.State != model.StatePaused {
		t.Errorf("offset-less updated_at: %s %v, want paused", j.State, j.Reasons)
	}
}

func dump(a model.Account) string {
	var b strings.Builder
	b.WriteString(a.Name + a.Key + a.Block().TempUnschedulableReason + a.Invalid)
	for _, m := range a.Block().ModelLimits {
		b.WriteString(m.Model)
	}
	return b.String()
}

// A decoded account shares no bytes with the value it came from or with the decoder's
// buffers: the fastjson decoder once kept the provider of a Kimi account as a slice of
// its parser's buffer, which the next value overwrote.
func TestDecodedAccountOutlivesTheDecoder(t *testing.T) {
	var d Decoder
	kimi := d.Decode("sched:meta:1", `{"ID":1,"Platform":"kimi","Extra":{"kimi_5h_used_percent":50,"zh\u0069pu_weekly_used_percent":1}}`)
	for range 3 {
		d.Decode("sched:meta:2", `{"ID":2,"Name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxx","Extra":{"\u0078xxxxxxxxxxxxxxxxxxxxxxxxx":1}}`)
	}
	if u := kimi.ProviderUsage; u == nil || u.Provider != "zhipu" || !u.Windows[1].HasUsed {
		t.Fatalf("provider usage %+v", u)
	}
}
