package report

import (
	"time"

	"github.com/quotatop/quotatop/model"
)

// window is what the formats say of column i (5h, then 7d): the Codex window, or another
// platform's (Anthropic's session and 7d windows, Kimi's and Zhipu's 5h and weekly ones)
// with its scheduling threshold, the only threshold that pauses those.
type window struct {
	name      model.WindowName
	used      float64
	threshold float64 // percent
	source    model.ThresholdSource
	resetAt   time.Time
	reset     bool
	disabled  bool
}

// hasWindows reports whether the row has 5h and 7d numbers to show.
func (r *Row) hasWindows() bool { return r.Judgement.HasSnapshot || r.Provider != nil }

// window is column i's numbers; present false when the row has none for it.
func (r *Row) window(i int) (w window, present bool) {
	if j := &r.Judgement; j.HasSnapshot {
		wj := &j.Windows[i]
		return window{name: wj.Name, used: wj.UsedPercent, threshold: model.ThresholdPercent(wj.Threshold), source: wj.ThresholdSource,
			resetAt: wj.ResetAt, reset: wj.Reset, disabled: wj.Disabled}, wj.Present
	}
	if p := r.Provider; p != nil {
		pw := &p.Windows[i]
		w = window{name: model.WindowNames[i], used: pw.UsedPercent, source: model.ThresholdNone, resetAt: pw.ResetAt, reset: pw.Reset}
		if p.ThresholdPercent > 0 {
			w.threshold, w.source = p.ThresholdPercent, model.ThresholdScheduling
		}
		return w, pw.Present
	}
	return window{name: model.WindowNames[i]}, false
}

// sampled is when the row's usage numbers were taken and their age at judgement: the
// Codex snapshot's time, or Anthropic's passive_usage_sampled_at.
func (r *Row) sampled() (time.Time, time.Duration, bool) {
	if j := &r.Judgement; j.HasTimestamp {
		return r.Account.Quota.UpdatedAt, j.Age, true
	}
	if p := r.Provider; p != nil && p.HasSampledAt {
		return p.SampledAt, p.Age, true
	}
	return time.Time{}, 0, false
}
