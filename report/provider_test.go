package report

import (
	"testing"
	"time"

	"github.com/quotatop/quotatop/model"
)

// A provider window is "over" exactly when the gateway's scheduling threshold trips on
// it: the columns and the judgement never disagree.
func TestProviderOverAgreesWithTheJudgement(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	ahead, behind := now.Add(time.Hour), now.Add(-time.Hour)
	win := func(used float64, reset time.Time) model.ProviderWindow {
		return model.ProviderWindow{HasUsed: true, UsedPercent: used, ResetAt: reset, HasResetAt: !reset.IsZero()}
	}
	thresholds := map[string]float64{"anthropic": 90, "kimi": 50, "zhipu": 100}
	for _, c := range []struct {
		name, platform, provider string
		windows                  [2]model.ProviderWindow
		over                     [2]bool
	}{
		{"anthropic 5h over", "anthropic", "anthropic", [2]model.ProviderWindow{win(95, ahead), win(10, ahead)}, [2]bool{true, false}},
		{"anthropic at threshold", "anthropic", "anthropic", [2]model.ProviderWindow{win(10, ahead), win(90, ahead)}, [2]bool{false, true}},
		{"anthropic over but reset", "anthropic", "anthropic", [2]model.ProviderWindow{win(95, behind), win(10, ahead)}, [2]bool{}},
		{"anthropic over, no reset time", "anthropic", "anthropic", [2]model.ProviderWindow{win(95, time.Time{}), {}}, [2]bool{}},
		{"kimi weekly over", "kimi", "kimi", [2]model.ProviderWindow{win(10, ahead), win(60, ahead)}, [2]bool{false, true}},
		{"kimi both over", "kimi", "kimi", [2]model.ProviderWindow{win(70, ahead), win(60, now.Add(5*time.Hour))}, [2]bool{true, true}},
		{"zhipu threshold off", "zhipu", "zhipu", [2]model.ProviderWindow{win(100, ahead), win(100, ahead)}, [2]bool{}},
		{"another provider's usage", "anthropic", "kimi", [2]model.ProviderWindow{win(99, ahead), {}}, [2]bool{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := model.Account{ID: 1, Platform: c.platform, Status: "active", Schedulable: true,
				ProviderUsage: &model.ProviderUsage{Provider: c.provider, Windows: c.windows}}
			p := model.DefaultPolicy()
			p.SchedulingThresholds = thresholds
			rows := Judge([]model.Account{a}, p, now)
			r := &rows[0]
			if r.Provider == nil {
				t.Fatal("no provider judgement")
			}
			st := r.Judgement.SchedThreshold
			for i, want := range c.over {
				if got := r.Provider.Windows[i].Over; got != want {
					t.Errorf("window %d over = %v, want %v", i, got, want)
				}
			}
			tripped := c.over[0] || c.over[1]
			if st.Tripped != tripped {
				t.Fatalf("judgement tripped = %v, windows over %v", st.Tripped, c.over)
			}
			if tripped && !r.Provider.Windows[windowIndexOf(st.Window)].Over {
				t.Errorf("the judgement trips %s, which the columns do not show over", st.Window)
			}
		})
	}
}

func windowIndexOf(w model.WindowName) int {
	if w == model.Window7d {
		return 1
	}
	return 0
}
