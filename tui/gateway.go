package tui

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/quotatop/quotatop/model"
)

// GatewayInfo is what the monitor reads from the gateway besides accounts: its
// scheduling thresholds and its version, each with the error that kept it unknown.
type GatewayInfo struct {
	SchedulingThresholds map[string]float64
	SchedulingErr        error
	Version              string
	VersionErr           error
}

// gatewayState is the last GatewayInfo and the default-threshold error, kept so the
// header can say what is unknown for as long as it lasts.
type gatewayState struct {
	known      bool // a GatewayInfo reader is configured
	version    string
	defaultErr string // the default thresholds could not be read
	schedErr   string // the scheduling thresholds could not be read
	// schedRead and defaultsRead say the gateway's thresholds have been read once: the
	// poll after the first read is the events' baseline (Model.rebaseline).
	schedRead, defaultsRead bool
}

// learned marks one kind of the gateway's thresholds read; the first time, the next
// poll is the events' baseline.
func (m *Model) learned(read *bool) {
	m.rebaseline = m.rebaseline || !*read
	*read = true
}

type gatewayMsg struct{ info GatewayInfo }

type gatewayDueMsg struct{}

// fetchGateway reads the gateway's scheduling thresholds and version (at start and
// every minute).
func (m Model) fetchGateway() tea.Cmd {
	read := m.opts.Gateway
	if read == nil {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return gatewayMsg{info: read(ctx)}
	}
}

// gatewayDone applies what was read; thresholds that could not be read keep the last
// known (or the flags') values, and the header says so.
func (m Model) gatewayDone(msg gatewayMsg) (tea.Model, tea.Cmd) {
	in := msg.info
	m.gateway.known = true
	m.gateway.version = model.Sanitize(in.Version)
	m.gateway.schedErr = ""
	if in.SchedulingErr != nil {
		m.gateway.schedErr = model.Sanitize(in.SchedulingErr.Error())
	} else {
		m.ctx.Policy.SchedulingThresholds = in.SchedulingThresholds
		m.learned(&m.gateway.schedRead)
		m.fleet.Rejudge(m.ctx.Policy, m.ctx.Now)
	}
	m.invalidate()
	return m, tea.Tick(time.Minute, func(time.Time) tea.Msg { return gatewayDueMsg{} })
}

// gatewayLine is the header line that stays while thresholds are unknown or the
// gateway's version is unknown or newer than the rules; "" when all is known.
func (m Model) gatewayLine() string {
	g := m.gateway
	// Both facts stay on the one line: an unreadable threshold must not hide that the
	// gateway's version is unknown or newer than the rules, nor the other way round.
	var version, text string
	if g.known {
		version = model.VersionNote(g.version)
	}
	if g.defaultErr != "" || g.schedErr != "" {
		// What could not be read now keeps what was read before, the flags' values until then.
		values := "the flags' values"
		if (g.schedErr != "" && g.schedRead) || (g.defaultErr != "" && g.defaultsRead) {
			values = "the last values read"
		}
		text = "⚠ the gateway's thresholds could not be read (judged with " + values + ")"
		if version != "" {
			text += " · " + version
		}
		text += ": " + firstOf(g.defaultErr, g.schedErr)
	} else if version != "" {
		text = "⚠ " + version
	}
	if m.warnings != "" {
		text = "⚠ " + m.warnings + strings.Replace(text, "⚠ ", " · ", 1)
	}
	if text == "" {
		return ""
	}
	return m.ctx.Styles.Notice.Render(fit(text, m.ctx.Width, false))
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// versionText is the detail view's line about the gateway's version.
func (m Model) versionText() string {
	if !m.gateway.known {
		return ""
	}
	v := m.gateway.version
	if v == "" {
		v = "unknown"
	}
	text := "Gateway version " + v
	if note := model.VersionNote(m.gateway.version); note != "" {
		text += " (" + note + ")"
	}
	return text + "."
}

// warningsLine joins warnings said outside the screen into one header text.
func warningsLine(warnings []string) string {
	parts := make([]string, 0, len(warnings))
	for _, w := range warnings {
		if w = strings.TrimSpace(model.Sanitize(w)); w != "" {
			parts = append(parts, w)
		}
	}
	return model.Cut(strings.Join(parts, " · "), messageMax)
}
