package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// trackingReader is a Reader that can say how it polls: by Redis change tracking, or in
// full and why (a Cluster, an ACL without the rules, an old server).
type trackingReader interface {
	TrackingStatus() string
}

// readMode is asked inside the poll command, never from View.
func readMode(r Reader) string {
	if t, ok := r.(trackingReader); ok {
		return t.TrackingStatus()
	}
	return ""
}

// readModeText shows tracking quietly and full polls as a notice, cut to half the width.
func readModeText(st Styles, mode string, width int) string {
	if !strings.HasPrefix(mode, "full polls") {
		return st.Dim.Render("· " + mode)
	}
	return st.Notice.Render(ansi.Truncate(mode, width/2, "…"))
}
