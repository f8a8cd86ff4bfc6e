package action

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quotatop/quotatop/model"
)

func TestActionsRefuseWhatCannotBeAddressed(t *testing.T) {
	for name, target := range map[string]Target{
		"id zero":   {ID: 0, Name: "zero"},
		"negative":  {ID: -4, Name: "neg"},
		"invalid":   {ID: 9, Name: "bad", Before: &model.Account{ID: 9, Invalid: "not valid JSON: syntax error at byte 3 of 10"}},
		"ambiguous": {ID: 99, Name: "dup", Ambiguous: "ID 99 also in sched:meta:15"},
	} {
		admin := &fakeAdmin{}
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		d := NewDispatcher(admin, NewAudit(path, os.Getenv), nil, "")
		res := d.Run(context.Background(), Same([]Kind{Probe}, []Target{target}))
		if res[0].Err == nil || !strings.HasPrefix(res[0].Outcome, "refused: ") {
			t.Errorf("%s: not refused: %+v", name, res[0])
		}
		if len(admin.calls) != 0 {
			t.Errorf("%s: the admin API was called: %v", name, admin.calls)
		}
	}
}

func TestAuditLogRefusesSymlinksAndTightensModes(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep\n"), 0o600)
	link := filepath.Join(dir, "audit.jsonl")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	a := NewAudit(link, os.Getenv)
	if err := a.Write(Record{Action: Probe, Phase: "start", AccountID: 1}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a symlinked audit log was written through: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Fatalf("the link's target changed: %q", b)
	}

	wide := filepath.Join(dir, "wide.jsonl")
	os.WriteFile(wide, nil, 0o644)
	os.Chmod(wide, 0o644)
	if err := NewAudit(wide, os.Getenv).Write(Record{Action: Probe, Phase: "start", AccountID: 1, Outcome: strings.Repeat("\x1b[2J", 1<<20)}); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(wide)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v left as it was", info.Mode().Perm())
	}
	if info.Size() > 4096 {
		t.Fatalf("a 4 MB outcome wrote a %d-byte audit line", info.Size())
	}
	b, _ := os.ReadFile(wide)
	if strings.Contains(string(b), "\x1b") || strings.Contains(string(b), `\u001b`) {
		t.Fatal("an escape reached the audit line")
	}
}
