package report

import (
	"strconv"
	"time"

	"github.com/quotatop/quotatop/trend"
)

// The reference encoder's projection fields (see jsonref_test.go).

// jsonTrend are a window's projection fields; null where there is not enough history.
type jsonTrend struct {
	Rate      *float64   `json:"rate_percent_per_hour"`
	Projected *float64   `json:"projected_percent_at_reset"`
	PauseETA  *time.Time `json:"pause_eta"`
	// Stale says the projection extrapolates a snapshot over 30 minutes old.
	Stale bool `json:"projection_stale"`
}

func trendOf(fp *trend.Forecast, i int) jsonTrend {
	var f trend.Forecast
	if fp != nil {
		f = *fp
	}
	w := f.Windows[i]
	t := jsonTrend{PauseETA: timePtr(w.PauseAt), Stale: f.Stale && w.Status == trend.StatusRate}
	if w.Status == trend.StatusRate {
		rate := roundTo2(w.Rate)
		t.Rate = &rate
		if w.HasProjected {
			p := roundTo2(w.Projected)
			t.Projected = &p
		}
	}
	return t
}

func roundTo2(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return f
}

// jsonGroup is one scheduling group's capacity for one platform, now and ahead.
type jsonGroup struct {
	ID          int64          `json:"id"`
	Platform    string         `json:"platform"`
	Accounts    int            `json:"accounts"`
	Schedulable int            `json:"schedulable"`
	Paused      int            `json:"paused"`
	Blocked     int            `json:"blocked"`
	Projected   map[string]int `json:"projected"`
	DryAt       *time.Time     `json:"dry_at"`
	Stale       bool           `json:"projection_stale"`
}

func groupsJSON(groups []trend.Group) []jsonGroup {
	out := make([]jsonGroup, 0, len(groups))
	for _, g := range groups {
		jg := jsonGroup{ID: g.ID, Platform: g.Platform, Accounts: g.Accounts, Schedulable: g.Schedulable, Paused: g.Paused, Blocked: g.Blocked,
			Projected: map[string]int{}, DryAt: timePtr(g.DryAt), Stale: g.Stale}
		for i, n := range g.Projected {
			jg.Projected[horizonNames[i]] = n
		}
		out = append(out, jg)
	}
	return out
}
