package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// The JSON document carries each window's rate, projection and pause time (null without
// enough history) and every group's capacity.
func TestJSONProjections(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	reset := now.Add(3 * time.Hour)
	acc := func(id int64, used float64) model.Account {
		return model.Account{ID: id, Platform: "openai", Status: "active", Schedulable: true, GroupIDs: []int64{3},
			Quota: &model.Quota{UpdatedAt: now, HasUpdatedAt: true, Windows: [2]model.WindowSnapshot{
				{Present: true, UsedPercent: used, Threshold: 0.95, ResetAt: reset, HasResetAt: true},
				{Present: true, UsedPercent: 5, ResetAt: now.Add(90 * time.Hour), HasResetAt: true}}}}
	}
	accounts := []model.Account{acc(1, 75), acc(2, 10)}
	past := trend.Sample{At: now.Add(-time.Hour), Present: [2]bool{true, true}, Used: [2]float64{55, 5}, ResetAt: [2]time.Time{reset, now.Add(90 * time.Hour)}}
	rows := Judge(accounts, model.DefaultPolicy(), now)
	groups := Project(rows, func(dst []trend.Sample, id int64) []trend.Sample {
		if id == 1 {
			return append(dst, past)
		}
		return dst
	}, model.DefaultPolicy(), now)
	var buf bytes.Buffer
	if err := Write(&buf, "json", Header{GeneratedAt: now, Groups: groups}, rows); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Accounts []struct {
			Windows map[string]map[string]any `json:"windows"`
		} `json:"accounts"`
		Groups []map[string]any `json:"groups"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	w := doc.Accounts[0].Windows["5h"]
	if w["rate_percent_per_hour"] != 20.0 || w["projected_percent_at_reset"] != 135.0 || w["pause_eta"] != "2026-11-26T11:00:00Z" {
		t.Fatalf("account 1 5h: %v", w)
	}
	for _, k := range []string{"rate_percent_per_hour", "projected_percent_at_reset", "pause_eta"} {
		if v, ok := doc.Accounts[1].Windows["5h"][k]; !ok || v != nil {
			t.Fatalf("account 2 %s: %v (want null)", k, v)
		}
	}
	g := doc.Groups[0]
	proj := g["projected"].(map[string]any)
	if g["id"] != 3.0 || g["platform"] != "openai" || g["accounts"] != 2.0 || g["schedulable"] != 2.0 || proj["+1h"] != 1.0 || proj["+5h"] != 2.0 || g["dry_at"] != nil {
		t.Fatalf("group: %v", g)
	}
}

// A format Projects says nothing of prints the same bytes whether or not the rows were
// projected, so a one-shot run may skip Project for it; the JSON document differs.
func TestOnlyProjectingFormatsShowProjections(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	accounts := dirtyAccounts(500, now)
	withProviders(accounts, now)
	p := model.DefaultPolicy()
	// Every account has a sample an hour back at half its use, so most have a rate.
	samples := func(dst []trend.Sample, id int64) []trend.Sample {
		for i := range accounts {
			a := &accounts[i]
			if a.ID != id || a.Quota == nil {
				continue
			}
			s := trend.Sample{At: now.Add(-time.Hour)}
			for w := range a.Quota.Windows {
				qw := &a.Quota.Windows[w]
				s.Present[w], s.Used[w], s.ResetAt[w] = qw.Present, qw.UsedPercent/2, qw.ResetAt
			}
			return append(dst, s)
		}
		return dst
	}
	for _, format := range Formats {
		plain := Judge(accounts, p, now)
		projected := Judge(accounts, p, now)
		h := Header{GeneratedAt: now, Source: "redis://127.0.0.1:6379/0", Prefix: "sched:"}
		hp := h
		hp.Groups = Project(projected, samples, p, now)
		var a, b bytes.Buffer
		if err := Write(&a, format, h, plain); err != nil {
			t.Fatal(err)
		}
		if err := Write(&b, format, hp, projected); err != nil {
			t.Fatal(err)
		}
		if same := bytes.Equal(a.Bytes(), b.Bytes()); same == Projects(format) {
			t.Errorf("%s: same bytes with and without projections: %v, Projects: %v", format, same, Projects(format))
		}
	}
}
