package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/source"
	"github.com/quotatop/quotatop/tui"
)

// parseSchedulingThresholds reads --scheduling-thresholds: "openai=90,anthropic=95",
// percent per platform, 100 = off. Empty means the gateway's default (all off).
func parseSchedulingThresholds(s string) (map[string]float64, error) {
	out := model.DefaultSchedulingThresholds()
	given := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" {
			return nil, fmt.Errorf("--scheduling-thresholds: %q is not platform=percent (e.g. openai=90)", part)
		}
		// A typo (opneai=50) or a repeat was taken silently and judged nothing.
		if !model.SchedThresholdPlatform(name) {
			return nil, fmt.Errorf("--scheduling-thresholds: %q is not a platform the gateway applies scheduling thresholds to (openai, anthropic, grok, kimi, zhipu)", name)
		}
		if given[name] {
			return nil, fmt.Errorf("--scheduling-thresholds: %s is given twice", name)
		}
		given[name] = true
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || math.IsNaN(f) || f < 1 || f > 100 {
			return nil, fmt.Errorf("--scheduling-thresholds: %s=%s: give a percent from 1 to 100 (100 = off)", name, strings.TrimSpace(val))
		}
		out[name] = f
	}
	return out, nil
}

// gatewayFacts is what quotatop read from the gateway besides the accounts: where the
// thresholds came from, why they could not be read, and the gateway's version.
type gatewayFacts struct {
	thresholdsSource string // "gateway", "flags", or "mixed" when only one kind was read
	thresholdsError  string
	version          string
	// defaultsRead and schedRead say which kind of thresholds this read replaced.
	defaultsRead, schedRead bool
}

// readGatewayFacts replaces p's thresholds with the gateway's (defaults and scheduling
// thresholds) and reads its version. A kind that cannot be read keeps p's values: the
// flags' at first, the last ones read after that.
func readGatewayFacts(p model.Policy, admin *source.Admin) (model.Policy, gatewayFacts) {
	f := gatewayFacts{thresholdsSource: "flags"}
	if admin == nil {
		return p, f
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []string
	if t, err := admin.DefaultThresholds(ctx); err != nil {
		errs = append(errs, "default thresholds: "+err.Error())
	} else {
		p.DefaultThreshold, f.defaultsRead = t, true
	}
	if t, err := admin.SchedulingThresholds(ctx); err != nil {
		errs = append(errs, "scheduling thresholds: "+err.Error())
	} else {
		p.SchedulingThresholds, f.schedRead = t, true
	}
	if v, err := admin.GatewayVersion(ctx); err == nil {
		f.version = v
	}
	switch {
	case len(errs) == 0:
		f.thresholdsSource = "gateway"
	case f.defaultsRead || f.schedRead:
		f.thresholdsSource = "mixed"
	}
	if len(errs) > 0 {
		f.thresholdsError = model.Sanitize(strings.Join(errs, "; "))
	}
	return p, f
}

// warnFacts prints the one stderr line --once owes when the thresholds are the flags'
// although --api was given.
func warnFacts(f gatewayFacts, stderr io.Writer) {
	if f.thresholdsError != "" {
		fmt.Fprintf(stderr, "quotatop: warning: cannot read the gateway's thresholds (%s); judged with the flags' values for what could not be read\n", f.thresholdsError)
	}
}

// gatewayInfo is the live monitor's reader of the gateway's scheduling thresholds and
// version.
func gatewayInfo(admin *source.Admin) func(context.Context) tui.GatewayInfo {
	return func(ctx context.Context) tui.GatewayInfo {
		var in tui.GatewayInfo
		in.SchedulingThresholds, in.SchedulingErr = admin.SchedulingThresholds(ctx)
		in.Version, in.VersionErr = admin.GatewayVersion(ctx)
		return in
	}
}
