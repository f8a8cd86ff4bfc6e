package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
	"github.com/quotatop/quotatop/model"
)

// Two values that claim one account ID used to fail the whole scrape with a 500 (the
// registry refuses two series with the same labels), which silenced every alert. The
// first account keeps its series, the second is counted, and the fleet's counts hold
// both.
func TestDuplicateIDsKeepTheScrape(t *testing.T) {
	m := New(Options{Clock: func() time.Time { return t0 }})
	accounts, js := fleet()
	accounts[1].ID = 1
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	fams := scrape(t, listen(t, m))
	if got := series(fams["quotatop_account_info"]); !slices.Equal(got, []string{"account_id=1,platform=openai 1", "account_id=3,platform=openai 1"}) {
		t.Errorf("info %q", got)
	}
	if got := series(fams["quotatop_duplicate_account_ids"]); !slices.Equal(got, []string{" 1"}) {
		t.Errorf("duplicates %q", got)
	}
	var total float64
	for _, s := range fams["quotatop_accounts"].GetMetric() {
		total += s.GetGauge().GetValue()
	}
	if total != 3 {
		t.Errorf("the state counts hold %v accounts, want all 3", total)
	}
}

// A newline in a label value is escaped as the text format wants.
func TestLabelNewline(t *testing.T) {
	x := exposition{b: []byte("{")}
	if x.label("l", "new\nline"); string(x.b) != `{l="new\nline"` {
		t.Errorf("newline escaped as %q", x.b)
	}
}

// A scrape that is still reading keeps its snapshot: polls meanwhile build new ones (the
// pinned one is left to the collector), and with no scrape pinning them, polls take
// turns between two snapshots.
func TestSlowScrapeKeepsItsSnapshot(t *testing.T) {
	m := New(Options{Clock: func() time.Time { return t0 }})
	accounts, js := fleet()
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	v := m.pin()
	pinned := slices.Clone(v.snap.rows)
	for k := range 3 {
		accounts[0].ID = int64(100 + k)
		m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	}
	if !slices.Equal(v.snap.rows, pinned) {
		t.Fatal("a poll rewrote the snapshot a scrape was reading")
	}
	v.unpin()
	for range 3 {
		cur, spare := m.cur, m.spare
		m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
		if m.cur != spare || m.spare != cur {
			t.Fatal("a poll built a new snapshot although none was being read")
		}
	}
}

// Scrapes and polls at once, for the race detector, with gzip and without.
func TestScrapesDuringPolls(t *testing.T) {
	m := New(Options{Projector: projector{}, Clock: func() time.Time { return t0 }})
	accounts, js := bigFleet(500)
	m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
	base := listen(t, m)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k := range 50 {
			accounts[k].ID = int64(10000 + k)
			m.Update(t0, time.Millisecond, model.DefaultPolicy(), accounts, js)
		}
	}()
	for k := range 20 {
		enc := []string{"gzip", "identity"}[k%2]
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding"); (got == "gzip") != (enc == "gzip") {
			t.Fatalf("asked for %s, got Content-Encoding %q", enc, got)
		}
		if enc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		parser := expfmt.NewTextParser(prommodel.LegacyValidation)
		fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("scrape %d (%s): %v", k, enc, err)
		}
		if n := len(fams["quotatop_account_info"].GetMetric()); n != 500 {
			t.Fatalf("scrape %d: %d accounts, want 500", k, n)
		}
	}
	<-done
}

func TestTooManyScrapesAtOnce(t *testing.T) {
	m := New(Options{})
	base := listen(t, m)
	for range maxScrapes {
		m.scrapes <- struct{}{}
	}
	if code, body := get(t, base+"/metrics"); code != http.StatusServiceUnavailable || body != "too many scrapes at once; try again\n" {
		t.Errorf("%d %q", code, body)
	}
	<-m.scrapes
	if code, _ := get(t, base+"/metrics"); code != http.StatusOK {
		t.Errorf("with a slot free: %d", code)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"gzip": true, "": false, "identity": false, "deflate, gzip;q=0.5": true, "GZIP": true,
		"gzip;q=0": false, "gzip; q=0.0": false, "br, zstd": false, "gzipx": false, "gzip;q=bad": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("Accept-Encoding %q: %v, want %v", h, got, want)
		}
	}
}

func TestAppendValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", -1: "-1", 0.97: "0.97", 1e21: "1e+21", 1500: "1500"} {
		if got := string(appendValue(nil, v)); got != want {
			t.Errorf("%v: %q, want %q", v, got, want)
		}
	}
}
