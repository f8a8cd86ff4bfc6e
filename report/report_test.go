package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"github.com/clipperhouse/displaywidth"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// A name from storage must not run as a spreadsheet formula when the CSV is opened.
func TestCSVNeutralisesFormulas(t *testing.T) {
	accounts := []model.Account{{ID: 1, Name: "=HYPERLINK(\"http://x\")", Status: "active", Schedulable: true}, {ID: 2, Name: "plain"}}
	var buf bytes.Buffer
	if err := Write(&buf, "csv", Header{GeneratedAt: time.Now()}, Judge(accounts, model.DefaultPolicy(), time.Now())); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if records[1][1] != `'=HYPERLINK("http://x")` || records[2][1] != "plain" {
		t.Fatalf("names: %q %q", records[1][1], records[2][1])
	}
}

func TestTableAlignsWideNames(t *testing.T) {
	accounts := []model.Account{{ID: 1, Name: "账号一号", Status: "active", Schedulable: true}, {ID: 22, Name: "codex", Status: "active", Schedulable: true}}
	var buf bytes.Buffer
	Write(&buf, "table", Header{GeneratedAt: time.Now()}, Judge(accounts, model.DefaultPolicy(), time.Now()))
	lines := strings.Split(buf.String(), "\n")
	// The 5H column ("-" for no snapshot) starts at the same display column on both rows.
	if c1, c2 := displayCol(lines[1], "-"), displayCol(lines[2], "-"); c1 != c2 {
		t.Fatalf("columns misaligned (%d vs %d):\n%s", c1, c2, buf.String())
	}
}

// displayCol is the display column where sub starts (CJK runes count two).
func displayCol(line, sub string) int {
	i := strings.Index(line, sub)
	n := 0
	for _, r := range line[:i] {
		if r >= 0x2E80 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func TestEmptyFleetHasNoDanglingColon(t *testing.T) {
	var b strings.Builder
	if err := Write(&b, "table", Header{GeneratedAt: time.Now(), Source: "redis://x", Prefix: "sched:"}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\n0 accounts\n") {
		t.Fatalf("%q", b.String())
	}
}

// Other platforms' windows fill the 5h and 7d columns of every format, with their own
// sample time as the age and their scheduling threshold where one is set.
func TestProviderWindowsInEveryFormat(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	accounts := []model.Account{
		{ID: 7, Name: "claude", Platform: "anthropic", Status: "active", Schedulable: true,
			ProviderUsage: &model.ProviderUsage{Provider: "anthropic", SampledAt: now.Add(-3 * time.Minute), HasSampledAt: true,
				Windows: [2]model.ProviderWindow{{HasUsed: true, UsedPercent: 42, ResetAt: now.Add(2 * time.Hour), HasResetAt: true},
					{HasUsed: true, UsedPercent: 71}}}},
		{ID: 8, Name: "kimi", Platform: "kimi", Status: "active", Schedulable: true,
			ProviderUsage: &model.ProviderUsage{Provider: "kimi",
				Windows: [2]model.ProviderWindow{{HasUsed: true, UsedPercent: 64}, {HasUsed: true, UsedPercent: 35, ResetAt: now.Add(-time.Minute), HasResetAt: true}}}},
	}
	p := model.DefaultPolicy()
	p.SchedulingThresholds = map[string]float64{"anthropic": 95}
	rows := Judge(accounts, p, now)
	h := Header{GeneratedAt: now}

	var table bytes.Buffer
	if err := Write(&table, "table", h, rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"7  claude 42% 71% 3m", "8  kimi   64% reset -"} {
		if !strings.Contains(strings.Join(strings.Fields(table.String()), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	var buf bytes.Buffer
	if err := Write(&buf, "csv", h, rows); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	claude, kimi := strings.Join(records[1], ","), strings.Join(records[2], ",")
	if want := ",2026-11-26T09:57:00Z,180,false,42,95,scheduling,2026-11-26T12:00:00Z,false,71,95,scheduling,,false,"; !strings.Contains(claude, want) {
		t.Errorf("claude: %s\nwant %s", claude, want)
	}
	if want := ",,,false,64,0,none,,false,35,0,none,2026-11-26T09:59:00Z,true,"; !strings.Contains(kimi, want) {
		t.Errorf("kimi: %s\nwant %s", kimi, want)
	}

	buf.Reset()
	if err := Write(&buf, "json", h, rows); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Accounts []struct {
			AgeSeconds *int64 `json:"age_seconds"`
			Windows    map[string]struct {
				Used      float64 `json:"used_percent"`
				Threshold float64 `json:"threshold_percent"`
				Source    string  `json:"threshold_source"`
				Reset     bool    `json:"reset"`
			} `json:"windows"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	c, k := doc.Accounts[0], doc.Accounts[1]
	if c.AgeSeconds == nil || *c.AgeSeconds != 180 || c.Windows["5h"].Used != 42 || c.Windows["7d"].Threshold != 95 || c.Windows["7d"].Source != "scheduling" {
		t.Errorf("claude: %+v", c)
	}
	if k.AgeSeconds != nil || k.Windows["5h"].Used != 64 || !k.Windows["7d"].Reset || k.Windows["7d"].Source != "none" {
		t.Errorf("kimi: %+v", k)
	}
}

// The ASCII shortcut cuts names exactly as the grapheme-aware cut does.
func TestNameCellMatchesTheDisplayWidthCut(t *testing.T) {
	for n := range 2*nameWidth + 2 {
		name := strings.Repeat("a", n/2) + strings.Repeat("~ ", n/4) + strings.Repeat("Z", n-n/2-2*(n/4))
		if got, want := nameCell(name), displaywidth.TruncateString(name, nameWidth, "…"); got != want {
			t.Fatalf("%d bytes: %q, want %q", n, got, want)
		}
	}
}

func FuzzNameCell(f *testing.F) {
	for _, s := range []string{"", "codex-pool-17", "an account name well past twenty columns", "账号一号账号二号账号三号", "e\u0301e\u0301", "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := nameCell(name), displaywidth.TruncateString(name, nameWidth, "…"); got != want {
			t.Fatalf("%q: %q, want %q", name, got, want)
		}
	})
}
