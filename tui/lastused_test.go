package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quotatop/quotatop/demo"
	"github.com/quotatop/quotatop/model"
)

// lastUsedReader answers ReadAccount with a last use newer than the polled value's.
type lastUsedReader struct {
	fakeReader
	at time.Time
}

func (r lastUsedReader) ReadAccount(_ context.Context, id int64) (model.Account, error) {
	return model.Account{ID: id, LastUsedAt: r.at}, nil
}

// Polls skip the last-use keys, so opening the detail view reads its account's.
func TestDetailReadsLastUse(t *testing.T) {
	m := newTestModel(t, 120, 40, false)
	m = keys(t, m, "j") // the first row is the unreadable account, whose detail says nothing more
	used := t0.Add(-3 * time.Second)
	m.opts.Reader = lastUsedReader{at: used}
	next, cmd := m.Update(keyMsg("enter"))
	m = next.(Model)
	if cmd == nil {
		t.Fatal("opening the detail view read nothing")
	}
	msg := cmd()
	if _, ok := msg.(lastUsedMsg); !ok {
		t.Fatalf("got %T", msg)
	}
	m = update(t, m, msg)
	if out := view(m); !strings.Contains(out, "Last used") || !strings.Contains(out, "3s ago") {
		t.Fatalf("last use not shown:\n%s", out)
	}
	// Another account's answer is not shown on this one.
	m = update(t, m, lastUsedMsg{id: m.detailID + 1, at: t0})
	if out := view(m); !strings.Contains(out, "3s ago") {
		t.Fatalf("last use lost:\n%s", out)
	}

}

// How polls read is in the header: quietly when Redis tracks changes, as a notice when
// polls are full.
func TestHeaderSaysHowPollsRead(t *testing.T) {
	m := newTestModel(t, 160, 30, false)
	m = update(t, m, pollDoneMsg{gen: 1, accounts: demo.Accounts(t0), started: t0, finished: t0, readMode: "change tracking"})
	if out := view(m); !strings.Contains(strings.Split(out, "\n")[0], "· change tracking") {
		t.Fatalf("no tracking in the header:\n%s", out)
	}
	m = update(t, m, pollDoneMsg{gen: 1, accounts: demo.Accounts(t0), started: t0, finished: t0, readMode: "full polls: change tracking needs a standalone server (cluster)"})
	if out := view(m); !strings.Contains(out, "full polls: change tracking needs") {
		t.Fatalf("fallback not said:\n%s", out)
	}
}

// A poll slower than a quarter of the interval stretches the wait after it, and the
// header says so; a fast poll brings the interval back.
func TestSlowPollStretchesInterval(t *testing.T) {
	m := newTestModel(t, 160, 30, false)
	m = update(t, m, pollDoneMsg{gen: 1, accounts: demo.Accounts(t0), started: t0.Add(-2 * time.Second), finished: t0})
	if line := strings.Split(view(m), "\n")[0]; !strings.Contains(line, "every 8s (slow poll)") {
		t.Fatalf("no stretch in the header: %s", line)
	}
	m = update(t, m, pollDoneMsg{gen: 1, accounts: demo.Accounts(t0), started: t0.Add(-10 * time.Millisecond), finished: t0})
	if line := strings.Split(view(m), "\n")[0]; !strings.Contains(line, "every 2s") || strings.Contains(line, "slow") {
		t.Fatalf("interval not back: %s", line)
	}
}
