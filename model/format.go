package model

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// FormatAge renders a duration the way the screens and tables do: two units at most,
// "45s", "12m", "3h14m", "2d5h". Negative durations read as their absolute value.
func FormatAge(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return strconv.FormatInt(s/60, 10) + "m"
	case s < 86400:
		if m := s % 3600 / 60; m > 0 {
			return fmt.Sprintf("%dh%02dm", s/3600, m)
		}
		return strconv.FormatInt(s/3600, 10) + "h"
	default:
		if h := s % 86400 / 3600; h > 0 {
			return fmt.Sprintf("%dd%dh", s/86400, h)
		}
		return strconv.FormatInt(s/86400, 10) + "d"
	}
}

// FormatPercent renders a used percent without noise: "97%", "99.2%".
func FormatPercent(p float64) string {
	return strconv.FormatFloat(roundTo(p, 1), 'f', -1, 64) + "%"
}

func roundTo(v float64, digits int) float64 {
	scale := math.Pow(10, float64(digits))
	return math.Round(v*scale) / scale
}

// ThresholdPercent converts a threshold ratio to the percent operators think in, without
// float noise (0.95 -> 95, not 95.00000000000001).
func ThresholdPercent(ratio float64) float64 { return roundTo(ratio*100, 4) }

// FutureAge is what a snapshot time after now reads as: the gateway counts it as fresh,
// and an age would hide a clock that is wrong on one side.
const FutureAge = "in the future (clock skew?)"

// FormatSnapshotAge renders a snapshot's age, or FutureAge when it is negative.
func FormatSnapshotAge(age time.Duration) string {
	if age < 0 {
		return FutureAge
	}
	return FormatAge(age)
}
