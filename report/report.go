// Package report prints one judged snapshot of the fleet for scripts: an aligned table,
// a JSON document or CSV. Its formats are an interface: add fields, never rename.
package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// Row is one account with its judgement.
type Row struct {
	Account   *model.Account
	Judgement model.Judgement
	Forecast  trend.Forecast // see Project; zero without one
}

// Judge judges every account at now, ordered by ID.
func Judge(accounts []model.Account, p model.Policy, now time.Time) []Row {
	rows := make([]Row, len(accounts))
	for i := range accounts {
		rows[i] = Row{Account: &accounts[i], Judgement: model.Judge(&accounts[i], p, now)}
	}
	slices.SortFunc(rows, func(a, b Row) int { return cmp.Compare(a.Account.ID, b.Account.ID) })
	return rows
}

// Header says what was read and when.
type Header struct {
	GeneratedAt time.Time
	Source      string
	Prefix      string
	Groups      []trend.Group // see Project
}

// Count returns how many rows are in each state.
func Count(rows []Row) map[model.State]int {
	n := map[model.State]int{}
	for _, r := range rows {
		n[r.Judgement.State]++
	}
	return n
}

// Write prints rows in format ("table", "json" or "csv").
func Write(w io.Writer, format string, h Header, rows []Row) error {
	switch format {
	case "table":
		return writeTable(w, h, rows)
	case "json":
		return writeJSON(w, h, rows)
	case "csv":
		return writeCSV(w, rows)
	}
	return fmt.Errorf("unknown output format %q (use table, json or csv)", format)
}

// Formats lists the accepted output formats.
var Formats = []string{"table", "json", "csv"}

type jsonDoc struct {
	GeneratedAt time.Time     `json:"generated_at"`
	Source      string        `json:"source"`
	Prefix      string        `json:"prefix"`
	Accounts    []jsonAccount `json:"accounts"`
	Groups      []jsonGroup   `json:"groups"` // report/trend.go
}

type jsonAccount struct {
	ID            int64                 `json:"id"`
	Key           string                `json:"key"`
	Name          string                `json:"name"`
	Platform      string                `json:"platform"`
	Type          string                `json:"type"`
	Status        string                `json:"status"`
	Schedulable   bool                  `json:"schedulable"`
	State         model.State           `json:"state"`
	Reasons       []model.Reason        `json:"reasons"`
	Invalid       string                `json:"invalid,omitempty"`
	UpdatedAt     *time.Time            `json:"updated_at"`
	AgeSeconds    *int64                `json:"age_seconds"`
	Stale         bool                  `json:"stale"`
	LastUsedAt    *time.Time            `json:"last_used_at"`
	GroupIDs      []int64               `json:"group_ids"`
	Windows       map[string]jsonWindow `json:"windows,omitempty"`
	BlockedUntil  *time.Time            `json:"blocked_until"`
	TempReason    string                `json:"temp_unschedulable_reason,omitempty"`
	ModelLimitsAt map[string]time.Time  `json:"model_rate_limits,omitempty"`
}

type jsonWindow struct {
	UsedPercent      float64               `json:"used_percent"`
	ThresholdPercent float64               `json:"threshold_percent"`
	ThresholdSource  model.ThresholdSource `json:"threshold_source"`
	ResetAt          *time.Time            `json:"reset_at"`
	Reset            bool                  `json:"reset"`
	AutoPauseOff     bool                  `json:"auto_pause_disabled"`
	jsonTrend                              // report/trend.go
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func writeJSON(w io.Writer, h Header, rows []Row) error {
	doc := jsonDoc{GeneratedAt: h.GeneratedAt.UTC(), Source: h.Source, Prefix: h.Prefix, Accounts: make([]jsonAccount, 0, len(rows))}
	for _, r := range rows {
		a, j := r.Account, r.Judgement
		ja := jsonAccount{ID: a.ID, Key: a.Key, Name: a.Name, Platform: a.Platform, Type: a.Type, Status: a.Status,
			Schedulable: a.Schedulable, State: j.State, Reasons: j.Reasons, Invalid: a.Invalid, Stale: j.Stale,
			LastUsedAt: timePtr(a.LastUsedAt), GroupIDs: a.GroupIDs, BlockedUntil: timePtr(BlockedUntil(a, h.GeneratedAt)),
			TempReason: a.TempUnschedulableReason}
		if ja.Reasons == nil {
			ja.Reasons = []model.Reason{}
		}
		if ja.GroupIDs == nil {
			ja.GroupIDs = []int64{}
		}
		if j.HasTimestamp {
			ja.UpdatedAt = timePtr(a.Quota.UpdatedAt)
			age := int64(j.Age / time.Second)
			ja.AgeSeconds = &age
		}
		if j.HasSnapshot {
			ja.Windows = map[string]jsonWindow{}
			for i, wj := range j.Windows {
				ja.Windows[string(wj.Name)] = jsonWindow{UsedPercent: wj.UsedPercent, ThresholdPercent: model.ThresholdPercent(wj.Threshold),
					ThresholdSource: wj.ThresholdSource, ResetAt: timePtr(wj.ResetAt), Reset: wj.Reset, AutoPauseOff: wj.Disabled, jsonTrend: trendOf(r.Forecast, i)}
			}
		}
		for _, m := range a.ModelLimits {
			if m.ResetAt.After(h.GeneratedAt) {
				if ja.ModelLimitsAt == nil {
					ja.ModelLimitsAt = map[string]time.Time{}
				}
				ja.ModelLimitsAt[m.Model] = m.ResetAt.UTC()
			}
		}
		doc.Accounts = append(doc.Accounts, ja)
	}
	doc.Groups = groupsJSON(h.Groups)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// BlockedUntil is the latest until-time of the blocks in force at now, or zero.
func BlockedUntil(a *model.Account, now time.Time) time.Time {
	var until time.Time
	for _, t := range []time.Time{a.OverloadUntil, a.RateLimitResetAt, a.TempUnschedulableUntil} {
		if t.After(now) && t.After(until) {
			until = t
		}
	}
	return until
}

var csvHeader = []string{"id", "name", "platform", "type", "status", "schedulable", "state", "reasons",
	"updated_at", "age_seconds", "stale",
	"used_5h", "threshold_5h", "threshold_source_5h", "reset_at_5h", "reset_5h",
	"used_7d", "threshold_7d", "threshold_source_7d", "reset_at_7d", "reset_7d", "key"}

func writeCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, r := range rows {
		a, j := r.Account, r.Judgement
		reasons := make([]string, len(j.Reasons))
		for i, x := range j.Reasons {
			reasons[i] = string(x)
		}
		rec := []string{strconv.FormatInt(a.ID, 10), cell(a.Name), cell(a.Platform), cell(a.Type), cell(a.Status),
			strconv.FormatBool(a.Schedulable), string(j.State), strings.Join(reasons, ";"), "", "", strconv.FormatBool(j.Stale)}
		if j.HasTimestamp {
			rec[8], rec[9] = a.Quota.UpdatedAt.UTC().Format(time.RFC3339), strconv.FormatInt(int64(j.Age/time.Second), 10)
		}
		for _, wj := range j.Windows {
			if !j.HasSnapshot {
				rec = append(rec, "", "", "", "", "")
				continue
			}
			reset := ""
			if !wj.ResetAt.IsZero() {
				reset = wj.ResetAt.UTC().Format(time.RFC3339)
			}
			rec = append(rec, strconv.FormatFloat(wj.UsedPercent, 'f', -1, 64), strconv.FormatFloat(model.ThresholdPercent(wj.Threshold), 'f', -1, 64),
				string(wj.ThresholdSource), reset, strconv.FormatBool(wj.Reset))
		}
		rec = append(rec, cell(a.Key))
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from running a name as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
