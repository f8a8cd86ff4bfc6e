package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/quotatop/quotatop/action"
	"github.com/quotatop/quotatop/model"
)

// ContextInfo names a configured gateway, for the header and the context switcher.
type ContextInfo struct {
	Name  string
	Color string // as lipgloss.Color takes it ("196", "#ff0000"); empty for none
}

// Target is one gateway as the monitor watches it: what Options.Switch opens.
type Target struct {
	Context  ContextInfo
	Reader   Reader
	Source   SourceInfo
	Policy   model.Policy
	Interval time.Duration
	// PollTimeout bounds one read (an admin-API read of many pages takes longer than a
	// Redis one); 0 keeps the monitor's.
	PollTimeout time.Duration
	Actions     *action.Dispatcher
	Thresholds  func(context.Context) ([2]float64, error)
	// Gateway reads the gateway's scheduling thresholds and version (nil without --api).
	Gateway func(context.Context) GatewayInfo
	// History is the gateway's sample store, nil for none.
	History History
	// Warnings are what opening it said (Options.Warnings).
	Warnings []string
	// Close releases the gateway's connections; the monitor calls it when it leaves.
	Close func()
}

// contextSwitchedMsg carries a gateway opened for a switch, or why it could not be.
type contextSwitchedMsg struct {
	gen    int
	target Target
	err    error
}

// switcher is the context switcher: the list of configured gateways, the one watched, and
// the switch in flight (one at a time; an older one's result is closed and dropped).
type switcher struct {
	items   []ContextInfo
	current ContextInfo
	cursor  int
	gen     int
	pending string
	// closeCurrent releases the gateway watched now, once the monitor leaves it.
	closeCurrent func()
	styles       Styles
	badge        lipgloss.Style
}

func newSwitcher(opts Options, st Styles, keys *KeyMap) *switcher {
	s := &switcher{items: opts.Contexts, styles: st, closeCurrent: opts.Close}
	keys.Contexts.SetEnabled(len(opts.Contexts) > 1 && opts.Switch != nil)
	s.setCurrent(opts.Context)
	return s
}

// setCurrent builds the header badge once per switch, not per frame.
func (s *switcher) setCurrent(c ContextInfo) {
	s.current = c
	s.badge = s.styles.Bold.Padding(0, 1).Reverse(true)
	if s.styles.Color && c.Color != "" {
		s.badge = s.styles.Bold.Padding(0, 1).Background(lipgloss.Color(c.Color)).Foreground(lipgloss.Color("231"))
	}
	for i, it := range s.items {
		if it.Name == c.Name {
			s.cursor = i
		}
	}
}

// Badge is the context name as the header shows it: prominent, in the context's colour.
func (s *switcher) Badge() string {
	if s.current.Name == "" {
		return ""
	}
	return " " + s.badge.Render(model.Sanitize(s.current.Name))
}

// View draws the switcher full screen.
func (s *switcher) View(w, h int) string {
	st := s.styles
	lines := []string{fit(st.Title.Render("Contexts"), w, false), ""}
	// Title, blank, blank, note and footer leave h-5 rows; scroll to keep the cursor on them.
	rows := max(h-5, 1)
	first := max(s.cursor-rows+1, 0)
	for i, it := range s.items[first:min(first+rows, len(s.items))] {
		i += first
		mark := "  "
		if it.Name == s.current.Name {
			mark = "● "
		}
		name := model.Sanitize(it.Name)
		if it.Name == s.pending {
			name += st.Notice.Render("  opening…")
		}
		line := mark + name
		if i == s.cursor {
			line = st.Cursor.Render(fit("▸ "+line, w, false))
		} else {
			line = "  " + line
		}
		lines = append(lines, fit(line, w, false))
	}
	lines = append(lines, "", st.Dim.Render(fit("● is the gateway watched now. Switching polls the new one from scratch.", w, false)))
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	if len(lines) > h-1 {
		lines = lines[:h-1]
	}
	lines = append(lines, st.Help.Render(fit("j/k move · enter switch · esc back", w, false)))
	return strings.Join(lines, "\n")
}

// contextsKey handles keys while the switcher is in front.
func (m Model) contextsKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k, s := m.ctx.Keys, m.switcher
	switch {
	case key.Matches(msg, k.Up):
		s.cursor = max(s.cursor-1, 0)
	case key.Matches(msg, k.Down):
		s.cursor = min(s.cursor+1, len(s.items)-1)
	case msg.String() == "enter":
		name := s.items[s.cursor].Name
		if name == s.current.Name {
			m.screen = screenTable
			return m, nil
		}
		s.gen++
		s.pending = name
		gen, open := s.gen, m.opts.Switch
		return m, func() tea.Msg {
			t, err := open(name)
			return contextSwitchedMsg{gen: gen, target: t, err: err}
		}
	case key.Matches(msg, k.Back), key.Matches(msg, k.Contexts):
		m.screen = screenTable
	}
	return m, nil
}

// contextSwitched adopts a newly opened gateway: the old one's poll result is dropped by
// generation and its connections closed, so one poller runs at a time.
func (m Model) contextSwitched(msg contextSwitchedMsg) (tea.Model, tea.Cmd) {
	s := m.switcher
	if msg.gen != s.gen {
		return m, closeCmd(msg.target.Close)
	}
	s.pending = ""
	if msg.err != nil {
		m.say(fmt.Sprintf("Could not switch to %s: %s", model.Sanitize(s.items[s.cursor].Name), model.Sanitize(msg.err.Error())))
		return m, nil
	}
	t := msg.target
	// The minute-by-minute threshold reading goes on by itself once started (it reads
	// whatever Options.Thresholds is then); start it only if it was not running.
	startThresholds := m.opts.Thresholds == nil
	startGateway := m.opts.Gateway == nil
	old := s.closeCurrent
	s.closeCurrent = t.Close
	s.setCurrent(t.Context)
	m.opts.Reader, m.opts.Actions, m.opts.Thresholds, m.opts.Gateway = t.Reader, t.Actions, t.Thresholds, t.Gateway
	m.gateway = gatewayState{}
	m.warnings = warningsLine(t.Warnings)
	m.opts.History, m.trends = t.History, nil
	m.ctx.Source, m.ctx.Policy = t.Source, t.Policy
	if t.Interval > 0 {
		m.interval = t.Interval
	}
	if t.PollTimeout > 0 {
		m.opts.PollTimeout = t.PollTimeout
	}
	acts := t.Actions != nil && t.Actions.ReadOnly() == ""
	for _, b := range []*key.Binding{&m.ctx.Keys.Mark, &m.ctx.Keys.MarkAll, &m.ctx.Keys.Probe, &m.ctx.Keys.Unpause} {
		b.SetEnabled(acts)
	}
	m.fleet = NewFleet()
	m.haveData, m.failures, m.lastErr, m.offset = false, 0, "", 0
	clear(m.results)
	m.thresholdOrigin = "--default-threshold flags"
	if t.Thresholds != nil {
		m.thresholdOrigin = "gateway settings (not read yet)"
	}
	m.screen = screenTable
	m.invalidate()
	// The events compared the old gateway's accounts; the new one's first poll is a
	// baseline, or every account that differs by ID would be announced as changed.
	m.rebaseline = true
	m.scheduleGen++ // disarm the old gateway's timer
	m.say("Now watching " + model.Sanitize(t.Context.Name))
	var thresholds, gateway tea.Cmd
	if startThresholds {
		thresholds = m.fetchThresholds()
	}
	if startGateway {
		gateway = m.fetchGateway()
	}
	return m, tea.Batch(m.startPoll(), closeCmd(old), thresholds, gateway)
}

// closeCmd closes a gateway off the update loop: closing may wait on the network.
func closeCmd(close func()) tea.Cmd {
	if close == nil {
		return nil
	}
	return func() tea.Msg { close(); return nil }
}
