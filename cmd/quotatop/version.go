package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Set by the release build: -ldflags "-X main.version=v... -X main.commit=... -X main.date=...".
var (
	version = ""
	commit  = ""
	date    = ""
)

// versionName is the version alone, "v1.2.3" both from a release build (which injects
// it with its v) and from `go install ...@v1.2.3` (where the toolchain records it).
func versionName() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		return "dev"
	}
	if !strings.HasPrefix(v, "v") && v != "dev" {
		v = "v" + v
	}
	return v
}

// versionLine says what this binary is. Without injected values it falls back to what the
// Go toolchain recorded, so a `go install` or `go build` still tells the truth; what
// neither knows (a module build records no commit) is left out rather than made up.
func versionLine() string {
	c, d := commit, date
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	var extra []string
	if c != "" {
		extra = append(extra, "commit "+c)
	}
	if d != "" {
		extra = append(extra, "built "+d)
	}
	if len(extra) == 0 {
		return "quotatop " + versionName()
	}
	return fmt.Sprintf("quotatop %s (%s)", versionName(), strings.Join(extra, ", "))
}
