package report

import (
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/quotatop/quotatop/model"
)

type jsonDoc struct {
	GeneratedAt time.Time `json:"generated_at"`
	Source      string    `json:"source"`
	Prefix      string    `json:"prefix"`
	// Added with the gateway-facts work; only ever added to.
	ThresholdsSource string        `json:"thresholds_source,omitempty"`
	ThresholdsError  string        `json:"thresholds_error,omitempty"`
	GatewayVersion   string        `json:"gateway_version,omitempty"`
	Accounts         []jsonAccount `json:"accounts"`
	Groups           []jsonGroup   `json:"groups"` // trendref_test.go
}

type jsonAccount struct {
	ID            int64                 `json:"id"`
	Key           string                `json:"key"`
	DuplicateOf   string                `json:"duplicate_of,omitempty"` // added with the shared-ID check
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
	// Added with the pause causes.
	SchedThreshold *jsonSchedThreshold `json:"scheduling_threshold,omitempty"`
	LocalQuota     *jsonLocalQuota     `json:"local_quota,omitempty"`
	TempBlock      *jsonTempBlock      `json:"temp_block,omitempty"`
}

type jsonSchedThreshold struct {
	Window           model.WindowName `json:"window"`
	UsedPercent      float64          `json:"used_percent"`
	ThresholdPercent float64          `json:"threshold_percent"`
	Until            *time.Time       `json:"until"`
}

type jsonLocalQuota struct {
	Exceeded  []model.LocalQuotaDim `json:"exceeded"`
	Dimension model.LocalQuotaDim   `json:"dimension"`
	UsedUSD   float64               `json:"used_usd"`
	LimitUSD  float64               `json:"limit_usd"`
	FreeAt    *time.Time            `json:"free_at"`
}

type jsonTempBlock struct {
	Source           string  `json:"source"`
	Window           string  `json:"window"`
	UsedPercent      float64 `json:"used_percent"`
	ThresholdPercent float64 `json:"threshold_percent"`
}

type jsonWindow struct {
	UsedPercent      float64               `json:"used_percent"`
	ThresholdPercent float64               `json:"threshold_percent"`
	ThresholdSource  model.ThresholdSource `json:"threshold_source"`
	ResetAt          *time.Time            `json:"reset_at"`
	Reset            bool                  `json:"reset"`
	AutoPauseOff     bool                  `json:"auto_pause_disabled"`
	jsonTrend                              // trendref_test.go
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// referenceJSON is the reflection-based encoder that defined the JSON format; the
// streaming writer must match it byte for byte.
func referenceJSON(w io.Writer, h Header, rows []Row) error {
	doc := jsonDoc{GeneratedAt: h.GeneratedAt.UTC(), Source: h.Source, Prefix: h.Prefix, Accounts: make([]jsonAccount, 0, len(rows)),
		ThresholdsSource: h.ThresholdsSource, ThresholdsError: h.ThresholdsError, GatewayVersion: h.GatewayVersion}
	// The rows claiming each ID, in row order: each names the one before it, else the
	// one after.
	claimants := map[int64][]int{}
	for i, r := range rows {
		claimants[r.Account.ID] = append(claimants[r.Account.ID], i)
	}
	for i, r := range rows {
		a, j := r.Account, r.Judgement
		var dup string
		if c := claimants[a.ID]; len(c) > 1 {
			at := slices.Index(c, i)
			dup = rows[c[max(at-1, 0)]].Account.Key
			if at == 0 {
				dup = rows[c[1]].Account.Key
			}
		}
		ja := jsonAccount{ID: a.ID, Key: a.Key, DuplicateOf: dup, Name: a.Name, Platform: a.Platform, Type: a.Type, Status: a.Status,
			Schedulable: a.Schedulable, State: j.State, Reasons: j.Reasons, Invalid: a.Invalid, Stale: j.Stale,
			LastUsedAt: timePtr(a.LastUsedAt), GroupIDs: a.GroupIDs, BlockedUntil: timePtr(BlockedUntil(a, h.GeneratedAt)),
			TempReason: a.Block().TempUnschedulableReason}
		if ja.Reasons == nil {
			ja.Reasons = []model.Reason{}
		}
		if ja.GroupIDs == nil {
			ja.GroupIDs = []int64{}
		}
		if at, d, ok := r.sampled(); ok { // the Codex snapshot's time, or Anthropic's sample time
			ja.UpdatedAt = timePtr(at)
			age := int64(d / time.Second)
			ja.AgeSeconds = &age
		}
		if r.hasWindows() { // a Codex snapshot, or another platform's usage
			ja.Windows = map[string]jsonWindow{}
			for i := range j.Windows {
				w, _ := r.window(i)
				ja.Windows[string(w.name)] = jsonWindow{UsedPercent: w.used, ThresholdPercent: w.threshold,
					ThresholdSource: w.source, ResetAt: timePtr(w.resetAt), Reset: w.reset, AutoPauseOff: w.disabled, jsonTrend: trendOf(r.Forecast, i)}
			}
		}
		for _, m := range a.Block().ModelLimits {
			if m.ResetAt.After(h.GeneratedAt) {
				if ja.ModelLimitsAt == nil {
					ja.ModelLimitsAt = map[string]time.Time{}
				}
				ja.ModelLimitsAt[m.Model] = m.ResetAt.UTC()
			}
		}
		if st := j.SchedThreshold; st.Tripped {
			ja.SchedThreshold = &jsonSchedThreshold{Window: st.Window, UsedPercent: st.UsedPercent, ThresholdPercent: st.ThresholdPercent, Until: timePtr(st.Until)}
		}
		if l := j.LocalQuota; l.Exceeded {
			ja.LocalQuota = &jsonLocalQuota{Exceeded: []model.LocalQuotaDim{}, Dimension: l.Dim, UsedUSD: l.Used, LimitUSD: l.Limit, FreeAt: timePtr(l.ResetsAt)}
			for _, d := range []model.LocalQuotaDim{model.LocalQuotaTotal, model.LocalQuotaDaily, model.LocalQuotaWeekly} {
				if l.Over(d) {
					ja.LocalQuota.Exceeded = append(ja.LocalQuota.Exceeded, d)
				}
			}
		}
		if b := a.Block().TempBlock; b != nil {
			ja.TempBlock = &jsonTempBlock{Source: b.Source, Window: b.Window, UsedPercent: b.UsedPercent, ThresholdPercent: b.ThresholdPercent}
		}
		doc.Accounts = append(doc.Accounts, ja)
	}
	doc.Groups = groupsJSON(h.Groups)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
