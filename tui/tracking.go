package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/quotatop/quotatop/model"
)

// trackingReader is a Reader that can say how it polls: by Redis change tracking, or in
// full and why (a Cluster, an ACL without the rules, an old server).
type trackingReader interface {
	TrackingStatus() string
}

// readMode is asked inside the poll command, never from View.
func readMode(r Reader) string {
	if t, ok := r.(trackingReader); ok {
		// Cut here too: the header truncates the mode on every frame.
		return model.Cut(t.TrackingStatus(), 400)
	}
	return ""
}

// vanishingReader is a Reader that counts the keys its last full read found gone after
// listing them (accounts deleted during the poll).
type vanishingReader interface {
	Vanished() int
}

// vanishedIn is asked inside the poll command, after the read.
func vanishedIn(r Reader) int {
	if v, ok := r.(vanishingReader); ok {
		return v.Vanished()
	}
	return 0
}

// readModeText shows tracking quietly and full polls as a notice, cut to half the width.
func readModeText(st Styles, mode string, width int) string {
	if !strings.HasPrefix(mode, "full polls") {
		return st.Dim.Render("· " + mode)
	}
	return st.Notice.Render(ansi.Truncate(mode, width/2, "…"))
}

// pollShare is the most of the monitor's time a poll may take: a poll slower than a
// quarter of the interval (a large fleet read in full) stretches the wait after it.
const pollShare = 4

// stretch is the wait before the next poll after one that took took: the interval, or
// pollShare times the poll when that is longer, so that a slow storage is not read
// back to back. The header says so while it lasts.
func (m *Model) stretch(took time.Duration) time.Duration {
	m.stretched = 0
	if took*pollShare > m.interval {
		m.stretched = max(min(took*pollShare, maxBackoff), m.interval)
		return m.stretched
	}
	return m.interval
}
