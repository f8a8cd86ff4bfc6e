package model

import (
	"strconv"
	"strings"
)

// RulesVersion is the gateway release whose code these rules mirror (the reset-credit and
// exhausted-rate-limit rules come from the pull requests merged right after it).
const RulesVersion = "0.1.179"

// VersionNote says, in one line, why the judgement may differ from a gateway of version v:
// "" when v is known and not newer than RulesVersion.
func VersionNote(v string) string {
	switch c, ok := CompareVersions(v, RulesVersion); {
	case v == "" || !ok:
		return "gateway version unknown: judged by the rules of sub2api " + RulesVersion
	case c > 0:
		return "gateway " + v + " is newer than " + RulesVersion + ", the release these rules mirror: check new pause reasons"
	}
	return ""
}

// CompareVersions compares dotted numeric versions ("v0.1.180", "0.1.179-beta" reads as
// 0.1.179); ok is false when either is not of that form.
func CompareVersions(a, b string) (int, bool) {
	pa, ok1 := versionParts(a)
	pb, ok2 := versionParts(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

func versionParts(v string) ([]int, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	if v == "" {
		return nil, false
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}
