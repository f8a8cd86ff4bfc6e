package tui

import (
	"context"
	"strings"
	"testing"
	"time"

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
