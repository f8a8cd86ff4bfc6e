package action

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/quotatop/quotatop/model"
)

// shownAs is how the TUI's describeResult (tui/actions.go) words a result before the
// numbers: "<steps> <outcome>", or "<steps> failed: <error>".
func shownAs(r Result) string {
	names := make([]string, len(r.Steps))
	for i, k := range r.Steps {
		names[i] = k.Short()
	}
	what := strings.Join(names, ", then ")
	if r.Err != nil {
		return what + " failed: " + r.Err.Error()
	}
	return what + " " + r.Outcome
}

// doubledWord returns the first word written twice in a row ("probe probe"), or "". A
// hyphenated word ("re-read") is one word; numbers (an address's 0.0) are not words.
func doubledWord(s string) string {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_'
	}) {
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			words = append(words, w)
		}
	}
	for i := 1; i < len(words); i++ {
		if words[i] == words[i-1] {
			return words[i]
		}
	}
	return ""
}

// probeAdmin answers the probe as it is told and, when breakAudit is set, makes the
// audit log unwritable while the call is in flight.
type probeAdmin struct {
	fakeAdmin
	probeErr   error
	breakAudit string
}

func (p *probeAdmin) Probe(_ context.Context, _ int64) (int, error) {
	if p.breakAudit != "" {
		os.Remove(p.breakAudit)
		os.Mkdir(p.breakAudit, 0o700) // the end record now has a directory to append to
	}
	if p.probeErr != nil {
		return 502, p.probeErr
	}
	return 200, nil
}

// Every way a probe can end is worded without a doubled word, both as the outcome the
// audit log keeps and as the TUI composes it after the step's name ("probe refreshed",
// never "probe probe refreshed").
func TestProbeOutcomeWording(t *testing.T) {
	before := &model.Account{ID: 1, Status: "active", Schedulable: true, Quota: &model.Quota{UpdatedAt: now.Add(-3 * time.Hour), HasUpdatedAt: true}}
	moved := func(context.Context, int64) (model.Account, error) {
		a := *before
		a.Quota = &model.Quota{UpdatedAt: now, HasUpdatedAt: true}
		return a, nil
	}
	still := func(context.Context, int64) (model.Account, error) { return *before, nil }
	failing := func(context.Context, int64) (model.Account, error) {
		return model.Account{}, errors.New("read sched:meta:* values: dial tcp 127.0.0.1:6390: connect: connection refused")
	}
	cases := []struct {
		name   string
		admin  *probeAdmin
		reread Rereader
		steps  []Kind
		want   string // the outcome starts with it
		failed bool
	}{
		{"snapshot moved", &probeAdmin{}, moved, []Kind{Probe}, "refreshed", false},
		{"snapshot did not move", &probeAdmin{}, still, []Kind{Probe}, "unchanged: the gateway could not reach upstream", false},
		{"no re-read", &probeAdmin{}, nil, []Kind{Probe}, "answered; the snapshot was not re-read", false},
		{"re-read failed", &probeAdmin{}, failing, []Kind{Probe}, "answered, but the account could not be re-read", false},
		{"after a switch that does not show", &probeAdmin{}, func(ctx context.Context, id int64) (model.Account, error) {
			a, err := moved(ctx, id)
			a.Schedulable = false
			return a, err
		}, []Kind{Schedule, Probe}, "refreshed; not yet visible", false},
		{"the gateway refused the probe", &probeAdmin{probeErr: errors.New("the gateway answered HTTP 502")}, moved, []Kind{Probe}, "failed: the gateway answered HTTP 502", true},
		{"the probe ran but the audit log broke", &probeAdmin{breakAudit: "?"}, moved, []Kind{Probe}, "probe done, but the audit log could not record it", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			if c.admin.breakAudit != "" {
				c.admin.breakAudit = path
			}
			d := NewDispatcher(c.admin, NewAudit(path, os.Getenv), c.reread, "").VisibleWithin(0)
			d.settle = 0
			res := d.Run(context.Background(), Same(c.steps, []Target{{ID: 1, Name: "codex-01", Before: before}}))[0]
			if !strings.HasPrefix(res.Outcome, c.want) || (res.Err != nil) != c.failed {
				t.Fatalf("outcome %q, err %v; want %q", res.Outcome, res.Err, c.want)
			}
			for _, text := range []string{res.Outcome, shownAs(res)} {
				if w := doubledWord(text); w != "" {
					t.Errorf("%q says %q twice in a row", text, w)
				}
			}
			if strings.HasPrefix(strings.ToLower(res.Outcome), Probe.Short()) && !c.failed {
				t.Errorf("outcome %q repeats the step's name the TUI puts before it", res.Outcome)
			}
			if c.admin.breakAudit != "" {
				return
			}
			recs := readAudit(t, path)
			if end := recs[len(recs)-1]; end.Phase != "end" || end.Action != Probe || !strings.HasPrefix(res.Outcome, end.Outcome) || doubledWord(end.Outcome) != "" {
				t.Errorf("audit end %+v, outcome %q", end, res.Outcome)
			}
		})
	}
	if doubledWord("codex-01: probe probe refreshed") != "probe" || doubledWord("Probe: probe") != "probe" || doubledWord("re-read: read") != "" {
		t.Fatal("doubledWord")
	}
}
