// Package tui is quotatop's live monitor: a Bubble Tea program with one root model that
// routes every message. All I/O happens in commands; results carry a generation so a stale
// one never overwrites a newer one.
package tui

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/quotatop/quotatop/action"
	"github.com/quotatop/quotatop/model"
	"github.com/quotatop/quotatop/trend"
)

// Reader is the snapshot storage as the monitor needs it.
type Reader interface {
	Read(ctx context.Context) ([]model.Account, error)
}

// Options configure the monitor.
type Options struct {
	Reader      Reader
	Source      SourceInfo
	Policy      model.Policy
	Interval    time.Duration
	PollTimeout time.Duration
	Color       bool
	Mouse       bool
	// Clock is read only inside commands; tests pass a fixed one.
	Clock    func() time.Time
	Location *time.Location

	// Actions carries out probes and unpauses; nil or read-only makes a pure monitor.
	Actions *action.Dispatcher
	// ConfirmProbes asks before a single-account probe too.
	ConfirmProbes bool
	// Thresholds reads the gateway-wide default thresholds; when set they replace the
	// flags' values, re-read every minute.
	Thresholds func(context.Context) ([2]float64, error)
	// Gateway reads the gateway's scheduling thresholds and version, every minute.
	Gateway func(context.Context) GatewayInfo

	// Context is the configured gateway watched (empty without a config file); Contexts
	// are those the switcher offers and Switch opens one (called inside a command).
	Context  ContextInfo
	Contexts []ContextInfo
	Switch   func(name string) (Target, error)
	// Close releases the first gateway when the monitor switches away from it.
	Close func()

	// History keeps samples for rates and projections (history.go); nil keeps none.
	History History

	// Alerts turns polls into events for the events pane (nil: no events).
	Alerts Alerts
	// NotifyTerminal rings the bell and sends a desktop notification on events; only
	// set it when the output is a terminal.
	NotifyTerminal bool
	// Warnings were said before the screen took over, which hides them (an admin key
	// sent in clear text, a key file others can read): the header keeps them.
	Warnings []string
}

// helpColumn is the width of one group of keys in the help screen.
const helpColumn = 34

// Minimum screen the table can be drawn in.
const minWidth, minHeight = 60, 12

// maxBackoff caps the retry delay while the storage is failing.
const maxBackoff = 30 * time.Second

// intervals are the steps + and - move through.
var intervals = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}

type screen int

const (
	screenTable screen = iota
	screenDetail
	screenHelp
	screenContexts
	screenEvents
	screenGroups // groups.go
)

// Messages, named for what happened.
type (
	pollDoneMsg struct {
		gen               int
		accounts          []model.Account
		trends            *trends // history.go; nil when this poll did not project
		projectTook       time.Duration
		err               error
		started, finished time.Time
		readMode          string // how the reader polls, when it says (see tracking.go)
		vanished          int    // keys the last full read found gone (see tracking.go)
		alerts            []Alert
		// outageDue is when the storage outage under way becomes reportable; zero when
		// none is pending (OutageScheduler).
		outageDue time.Time
		// fresh lists the accounts (indexes) not judged as in the last poll, which the
		// poll lists in the same order; nil when unknown (see Fleet.SetPoll).
		fresh []int32
	}
	pollDueMsg struct{ gen int }
	tickMsg    struct{ now time.Time }
)

// Model is the root model.
type Model struct {
	ctx   Context
	opts  Options
	fleet *Fleet

	screen    screen
	filter    textinput.Model
	filterOn  bool // the filter input has focus
	offset    int  // first table row on screen
	detailID  int64
	detailKey string      // the detail view follows a storage key: two may claim one ID
	lastUsed  lastUsedMsg // the detail account's last use, read when it opened
	readMode  string      // "change tracking", or why polls are full
	vanished  int         // the last poll's pollDoneMsg.vanished
	scroll    int         // detail/help scroll

	// Rendered rows (without the cursor) for the current data, tick, size and marks.
	rowCache map[string]cachedRow // by storage key
	rowsGen  uint64               // moves on with each tick and poll: cached rows are checked again
	layout   layout

	// Polling: one poll in flight at most; the next is armed when it finishes.
	pollGen     int // generation of the poll in flight or last finished
	scheduleGen int // generation of the armed timer; older timers are ignored
	polling     bool
	pollAgain   bool
	// rebaseline says the next poll is the events' baseline: the gateway's thresholds
	// were just learned, and what they change is quotatop's knowledge, not the fleet.
	rebaseline bool
	frozen     bool
	interval   time.Duration
	stretched  time.Duration // the wait after a poll too slow for interval, see stretch
	haveData   bool
	lastGood   time.Time
	lastTook   time.Duration
	failures   int
	failSince  time.Time
	lastErr    string
	retryAt    time.Time

	// Actions: in flight and the last result per storage key (two keys may claim one ID),
	// the message line.
	confirm   *confirm
	inFlight  map[string]bool
	running   map[string]string
	results   map[string]string
	message   string
	messageAt time.Time
	// warnings are the gateway's Options.Warnings (Target.Warnings after a switch), as
	// one sanitised line.
	warnings string
	// thresholdOrigin says where gateway default thresholds come from.
	thresholdOrigin string
	// gateway is what was last read from the gateway besides accounts.
	gateway  gatewayState
	switcher *switcher
	// trends are the last poll's projections (history.go).
	trends *trends
	// projectedAt is when the shown projections were made in full and projectTook how
	// long that took: a fleet whose projection is slow is projected in full less often
	// than every poll, and in between only what changed (history.go). regroup says the
	// groups changed in a way only a full projection answers.
	projectedAt time.Time
	projectTook time.Duration
	cores       int // the projection runs on this many (runtime.GOMAXPROCS)
	regroup     bool
	// events is the events pane's state (see events.go).
	events eventsPane
}

// New builds the root model.
func New(opts Options) Model {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = 10 * time.Second
	}
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	keys := DefaultKeyMap()
	// Without an admin API, or read-only, action keys are off everywhere (help, footer).
	if opts.Actions == nil || opts.Actions.ReadOnly() != "" {
		for _, b := range []*key.Binding{&keys.Mark, &keys.MarkAll, &keys.Probe, &keys.Unpause} {
			b.SetEnabled(false)
		}
	}
	ti := textinput.New()
	ti.Prompt = "/ "
	ti.Placeholder = filterPlaceholder
	ti.CharLimit = 100
	ti.SetWidth(filterWidth(80)) // without a width the placeholder shows one letter
	m := Model{
		ctx: Context{Styles: NewStyles(opts.Color), Keys: keys, Policy: opts.Policy, Now: opts.Clock(),
			Source: opts.Source, Location: opts.Location, Width: 80, Height: 24},
		opts:            opts,
		fleet:           NewFleet(),
		filter:          ti,
		interval:        opts.Interval,
		rowCache:        map[string]cachedRow{},
		pollGen:         1,
		polling:         true,
		inFlight:        map[string]bool{},
		running:         map[string]string{},
		results:         map[string]string{},
		thresholdOrigin: "--default-threshold flags",
		cores:           runtime.GOMAXPROCS(0),
	}
	m.ctx.Running = m.running
	m.warnings = warningsLine(opts.Warnings)
	m.switcher = newSwitcher(opts, m.ctx.Styles, &m.ctx.Keys)
	if opts.Thresholds != nil {
		m.thresholdOrigin = "gateway settings (not read yet)"
	}
	m.invalidate()
	return m
}

// Init starts the first poll (New already counted it as in flight) and the clock.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.pollCmd(m.pollGen), m.tick(), m.fetchThresholds(), m.fetchGateway())
}

func (m *Model) startPoll() tea.Cmd {
	m.pollGen++
	m.polling = true
	cmd := m.pollCmd(m.pollGen)
	m.rebaseline = false
	return cmd
}

func (m Model) pollCmd(gen int) tea.Cmd {
	reader, clock, timeout, alerts := m.opts.Reader, m.opts.Clock, m.opts.PollTimeout, m.opts.Alerts
	hist, policy := m.opts.History, m.ctx.Policy
	projectNow, baseline := m.projectDue(), m.rebaseline
	var counter *trend.Counter // only polls use it, and they do not overlap
	if m.trends != nil {
		counter = m.trends.counter
	}
	return func() tea.Msg {
		started := clock()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		accounts, err := reader.Read(ctx)
		msg := pollDoneMsg{gen: gen, accounts: accounts, err: err, started: started, finished: clock(), readMode: readMode(reader), vanished: vanishedIn(reader)}
		// judged runs between the judging and the events: the accounts are judged once,
		// for the events, the projections and (through them) the screen.
		judged := func(jd Judged) {
			msg.fresh = freshIndexes(jd, len(accounts))
			switch {
			case hist == nil:
			case projectNow || msg.fresh == nil:
				msg.trends = project(hist, accounts, msg.fresh, allJudgements(jd, len(accounts)), policy, msg.finished)
				msg.projectTook = clock().Sub(msg.finished)
				if sink, ok := alerts.(ForecastSink); ok {
					sink.PauseTimes(msg.trends.pauses) // projected once, for the screen and the events
				}
			default:
				msg.trends = projectFresh(hist, accounts, msg.fresh, jd.Judgement, counter, policy, msg.finished)
				if sink, ok := alerts.(ForecastSink); ok {
					sink.PatchPauseTimes(msg.trends.pauses)
				}
			}
		}
		if rb, ok := alerts.(Rebaseliner); ok && baseline {
			rb.Rebaseline()
		}
		switch {
		case alerts != nil:
			msg.alerts = alerts.Observe(msg.finished, msg.finished.Sub(started), accounts, policy, err, judged)
			if s, ok := alerts.(OutageScheduler); ok && err != nil {
				if due, ok := s.OutageDue(); ok {
					msg.outageDue = due
				}
			}
		case err == nil:
			judged(judgedOf(judgeAll(accounts, policy, msg.finished)))
		}
		return msg
	}
}

func (m *Model) schedulePoll(delay time.Duration) tea.Cmd {
	m.scheduleGen++
	gen := m.scheduleGen
	return tea.Tick(delay, func(time.Time) tea.Msg { return pollDueMsg{gen: gen} })
}

func (m Model) tick() tea.Cmd {
	clock := m.opts.Clock
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{now: clock()} })
}

// Update routes every message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.ctx.Width, m.ctx.Height = msg.Width, msg.Height
		m.filter.SetWidth(filterWidth(msg.Width))
		m.invalidate()
		m.keepCursorVisible()
		return m, nil
	case tickMsg:
		if m.message != "" && msg.now.Sub(m.messageAt) > messageFor {
			m.message = ""
		}
		m.ctx.Now = msg.now
		m.fleet.Tick(m.ctx.Policy, m.ctx.Now)
		m.rowsGen++ // ages moved: cachedLine sees which rows' text did
		m.keepCursorVisible()
		return m, m.tick()
	case pollDueMsg:
		if msg.gen != m.scheduleGen || m.frozen || m.polling {
			return m, nil
		}
		return m, m.startPoll()
	case pollDoneMsg:
		return m.pollDone(msg)
	case actionDoneMsg:
		return m.actionDone(msg)
	case lastUsedMsg:
		if msg.id == m.detailID { // not an answer for a detail view since left
			m.lastUsed = msg
		}
		return m, nil
	case gatewayMsg:
		return m.gatewayDone(msg)
	case gatewayDueMsg:
		return m, m.fetchGateway()
	case contextSwitchedMsg:
		return m.contextSwitched(msg)
	case thresholdsMsg:
		m.gateway.defaultErr = ""
		if msg.err != nil {
			m.gateway.defaultErr = model.Sanitize(msg.err.Error())
			m.say("Could not read the gateway's default thresholds: " + model.Sanitize(msg.err.Error()))
		} else {
			m.ctx.Policy.DefaultThreshold = msg.values
			m.learned(&m.gateway.defaultsRead)
			m.thresholdOrigin = "gateway settings, read " + clock(&m.ctx, m.ctx.Now)
			m.fleet.Rejudge(m.ctx.Policy, m.ctx.Now)
			m.invalidate()
		}
		return m, tea.Tick(time.Minute, func(time.Time) tea.Msg { return thresholdsDueMsg{} })
	case thresholdsDueMsg:
		return m, m.fetchThresholds()
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseWheelMsg:
		if m.screen == screenTable {
			if msg.Mouse().Button == tea.MouseWheelUp {
				m.move(-3)
			} else if msg.Mouse().Button == tea.MouseWheelDown {
				m.move(3)
			}
		}
		return m, nil
	}
	if m.filterOn {
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) pollDone(msg pollDoneMsg) (tea.Model, tea.Cmd) {
	if msg.gen != m.pollGen {
		return m, nil // an older poll: a newer one has already spoken
	}
	m.polling = false
	m.ctx.Now = msg.finished
	var notice tea.Cmd
	if len(msg.alerts) > 0 {
		m.events.add(msg.alerts)
		// An action's result keeps the line until it expires: the event waits in the pane.
		if m.messageLine() == "" || m.events.onLine {
			m.say("⚑ " + msg.alerts[len(msg.alerts)-1].Text + " (e: events)")
			m.events.onLine = true
		}
		if m.opts.NotifyTerminal {
			notice = tea.Raw(terminalNotice(msg.alerts))
		}
	}
	var delay time.Duration
	if msg.err != nil {
		if m.failures == 0 {
			m.failSince = msg.started
		}
		m.failures++
		m.lastErr = model.Cut(msg.err.Error(), messageMax)
		delay = min(m.interval<<min(m.failures-1, 6), maxBackoff)
		if !msg.outageDue.IsZero() {
			delay = min(delay, max(msg.outageDue.Sub(msg.finished), 0))
		}
		m.retryAt = msg.finished.Add(delay)
		m.fleet.Rejudge(m.ctx.Policy, m.ctx.Now)
	} else {
		m.failures, m.lastErr = 0, ""
		m.haveData, m.lastGood, m.lastTook = true, msg.finished, msg.finished.Sub(msg.started)
		m.readMode = msg.readMode
		// Said once per new count: the reader keeps it until its next full read.
		if msg.vanished > 0 && msg.vanished != m.vanished {
			m.say(fmt.Sprintf("%d key(s) that SCAN listed were gone when read (accounts deleted during the poll)", msg.vanished))
		}
		m.vanished = msg.vanished
		if t := msg.trends; t != nil && t.partial && m.trends != nil {
			// Before the rows are judged, so that they are judged with their new
			// outlooks and sorted once.
			m.fleet.takeOutlooks(t.fresh, t.outlooks)
		}
		m.fleet.SetPoll(msg.accounts, msg.fresh, m.ctx.Policy, m.ctx.Now)
		if msg.trends != nil && !msg.trends.partial {
			m.projectedAt, m.projectTook, m.regroup = msg.finished, msg.projectTook, false
		}
		m.setTrends(msg.trends) // history.go
		delay = m.stretch(m.lastTook)
	}
	m.rowsGen++ // the rows' cache checks each row's text (cachedLine)
	m.keepCursorVisible()
	if m.pollAgain {
		m.pollAgain = false
		return m, tea.Batch(notice, m.startPoll())
	}
	if m.frozen {
		return m, notice
	}
	return m, tea.Batch(notice, m.schedulePoll(delay))
}

// pollNow polls at once, or right after the poll in flight.
func (m *Model) pollNow() tea.Cmd {
	if m.polling {
		m.pollAgain = true
		return nil
	}
	m.scheduleGen++ // disarm the pending timer
	return m.startPoll()
}

func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.ctx.Keys
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	if m.tooSmall() {
		if key.Matches(msg, k.Quit) {
			return m, tea.Quit
		}
		return m, nil
	}
	if m.confirm != nil {
		return m.confirmKey(msg)
	}
	if m.filterOn {
		return m.filterKey(msg)
	}
	switch m.screen {
	case screenContexts:
		return m.contextsKey(msg)
	case screenGroups:
		return m.groupsKey(msg)
	case screenEvents:
		switch {
		case key.Matches(msg, k.Back), key.Matches(msg, k.Events):
			m.screen = screenTable
		case key.Matches(msg, k.Down):
			m.events.scroll = min(m.events.scroll+1, max(len(m.events.alerts)-1, 0))
		case key.Matches(msg, k.Up):
			m.events.scroll = max(m.events.scroll-1, 0)
		case key.Matches(msg, k.Top):
			m.events.scroll = 0
		case key.Matches(msg, k.Help):
			m.screen, m.scroll = screenHelp, 0
		}
		return m, nil
	case screenHelp:
		if key.Matches(msg, k.Help, k.Back) {
			m.screen = screenTable
		} else if key.Matches(msg, k.Down) {
			m.scroll++
		} else if key.Matches(msg, k.Up) {
			m.scroll = max(m.scroll-1, 0)
		}
		return m, nil
	case screenDetail:
		switch {
		case key.Matches(msg, k.Back):
			m.screen = screenTable
		case key.Matches(msg, k.Down):
			m.scroll++
		case key.Matches(msg, k.Up):
			m.scroll = max(m.scroll-1, 0)
		case key.Matches(msg, k.PageDown, k.HalfDown):
			m.scroll += m.bodyHeight() / 2
		case key.Matches(msg, k.PageUp, k.HalfUp):
			m.scroll = max(m.scroll-m.bodyHeight()/2, 0)
		case key.Matches(msg, k.Top):
			m.scroll = 0
		case key.Matches(msg, k.Bottom):
			m.scroll = math.MaxInt
		case key.Matches(msg, k.Help):
			m.screen, m.scroll = screenHelp, 0
		case key.Matches(msg, k.Refresh):
			return m, m.pollNow()
		case key.Matches(msg, k.Probe, k.Unpause):
			// The detail's account alone, whatever is marked: the view tells to press them.
			next, cmd, _ := m.actionKey(msg)
			return next, cmd
		}
		// Held to the body: j past the end no longer piled up presses k had to undo.
		if m.screen == screenDetail {
			m.scroll = min(m.scroll, m.lastScroll(len(m.detailBody())))
		}
		return m, nil
	}

	if next, cmd, ok := m.actionKey(msg); ok {
		return next, cmd
	}
	page := max(m.tableRows(), 1)
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.Top):
		m.move(-m.fleet.Len())
	case key.Matches(msg, k.Bottom):
		m.move(m.fleet.Len())
	case key.Matches(msg, k.PageUp):
		m.move(-page)
	case key.Matches(msg, k.PageDown):
		m.move(page)
	case key.Matches(msg, k.HalfUp):
		m.move(-page / 2)
	case key.Matches(msg, k.HalfDown):
		m.move(page / 2)
	case key.Matches(msg, k.Filter):
		m.filterOn = true
		m.invalidate()
		return m, m.filter.Focus()
	case key.Matches(msg, k.ClearFilter):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.fleet.SetQuery("", m.ctx.Now)
		}
		m.fleet.ClearMarks()
		m.invalidate()
	case key.Matches(msg, k.StateFilter):
		m.fleet.CycleStates(m.ctx.Now)
	case key.Matches(msg, k.Sort):
		m.fleet.CycleSort(m.ctx.Now)
	case key.Matches(msg, k.Reverse):
		m.fleet.ToggleReverse(m.ctx.Now)
	case key.Matches(msg, k.Detail):
		if r, ok := m.fleet.Cursor(); ok {
			m.screen, m.detailID, m.detailKey, m.scroll = screenDetail, r.acc.ID, r.acc.Key, 0
			return m, m.readLastUsed(r.acc.ID)
		}
	case key.Matches(msg, k.Help):
		m.screen, m.scroll = screenHelp, 0
	case key.Matches(msg, k.Contexts):
		m.screen = screenContexts
	case key.Matches(msg, k.Groups):
		m.screen, m.scroll = screenGroups, 0
	case key.Matches(msg, k.Events):
		m.screen, m.events.scroll = screenEvents, 0
	case key.Matches(msg, k.Refresh):
		return m, m.pollNow()
	case key.Matches(msg, k.Freeze):
		m.frozen = !m.frozen
		if !m.frozen {
			return m, m.pollNow()
		}
	case key.Matches(msg, k.Faster), key.Matches(msg, k.Slower):
		return m, m.changeInterval(key.Matches(msg, k.Faster))
	}
	m.keepCursorVisible()
	return m, nil
}

func (m Model) filterKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "esc":
		m.filter.SetValue("")
		m.filterOn = false
		m.filter.Blur()
	case "enter":
		m.filterOn = false
		m.filter.Blur()
	default:
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.fleet.SetQuery(m.filter.Value(), m.ctx.Now)
		m.offset = 0
		m.keepCursorVisible()
		return m, cmd
	}
	m.fleet.SetQuery(m.filter.Value(), m.ctx.Now)
	m.invalidate()
	m.keepCursorVisible()
	return m, nil
}

func (m *Model) changeInterval(faster bool) tea.Cmd {
	i := 0
	for i < len(intervals)-1 && intervals[i] < m.interval {
		i++
	}
	if faster {
		i = max(i-1, 0)
	} else if intervals[i] <= m.interval {
		i = min(i+1, len(intervals)-1)
	}
	m.interval = intervals[i]
	if m.polling || m.frozen {
		return nil
	}
	return m.schedulePoll(m.interval)
}

func (m *Model) move(delta int) {
	m.fleet.Move(delta)
	m.keepCursorVisible()
}

// keepCursorVisible scrolls the table so the cursor row is on screen.
func (m *Model) keepCursorVisible() {
	rows := max(m.tableRows(), 1)
	pos := m.fleet.CursorPos()
	if pos < m.offset {
		m.offset = pos
	}
	if pos >= m.offset+rows {
		m.offset = pos - rows + 1
	}
	m.offset = min(max(m.offset, 0), max(m.fleet.Len()-rows, 0))
}

func (m *Model) invalidate() {
	clear(m.rowCache)
	m.layout = newLayout(m.ctx.Width)
}

// cachedRow is a drawn row and its text without colours, which says whether it is still
// the row's: styling a row costs several times what its text does, and a tick or a poll
// changes the text of few visible rows. gen is the rowsGen it was last checked at.
type cachedRow struct {
	plain, styled string
	gen           uint64
}

// cachedLine draws a row that is not under the cursor. Within one rowsGen (between ticks
// and polls, when the screen is drawn for keys and frames) a cached row is used as is;
// after, it is checked against its text and styled again only when that changed. The
// cache is cleared by invalidate.
func (m *Model) cachedLine(f *Fleet, i int) string {
	e := f.Entry(i)
	c, ok := m.rowCache[e.acc.Key]
	if ok && c.gen == m.rowsGen {
		return c.styled // not even judged again
	}
	rv := f.rowValue(f.view[i])
	r, marked := &rv, f.Marked(e.acc.Key)
	text := m.layout.line(&m.ctx, r, plain, marked)
	if ok && c.plain == text {
		c.gen = m.rowsGen
		m.rowCache[r.acc.Key] = c
		return c.styled
	}
	if len(m.rowCache) > 4*max(m.ctx.Height, 25) { // rows scrolled past
		clear(m.rowCache)
	}
	line := m.layout.line(&m.ctx, r, styled, marked)
	m.rowCache[r.acc.Key] = cachedRow{text, line, m.rowsGen}
	return line
}

func (m Model) tooSmall() bool { return m.ctx.Width < minWidth || m.ctx.Height < minHeight }

// chrome is the number of lines around the table: two header lines, the status line,
// the column header and the footer, plus the banner when a poll failed.
func (m Model) chrome() int {
	n := 5
	if m.lastErr != "" {
		n++
	}
	if m.gatewayLine() != "" {
		n++
	}
	if msg := m.messageLine(); msg != "" {
		n += strings.Count(msg, "\n") + 1
	}
	return n
}

func (m Model) tableRows() int { return m.ctx.Height - m.chrome() }

func (m Model) bodyHeight() int { return m.ctx.Height - 2 }

// View draws the screen from cached pieces.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "quotatop"
	if m.opts.Mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

func (m Model) render() string {
	if m.tooSmall() {
		msg := fmt.Sprintf("quotatop needs at least %dx%d (now %dx%d): enlarge the window, or q to quit", minWidth, minHeight, m.ctx.Width, m.ctx.Height)
		return lipgloss.Place(m.ctx.Width, m.ctx.Height, lipgloss.Center, lipgloss.Center, lipgloss.NewStyle().Width(m.ctx.Width).Align(lipgloss.Center).Render(msg))
	}
	var out string
	switch m.screen {
	case screenHelp:
		out = m.helpView()
	case screenDetail:
		out = m.detailView()
	case screenContexts:
		out = m.switcher.View(m.ctx.Width, m.ctx.Height)
	case screenGroups:
		out = m.groupsScreen()
	case screenEvents:
		pane := m.events
		pane.ctx = &m.ctx
		out = pane.View(m.ctx.Width, m.ctx.Height)
	default:
		out = m.tableView()
	}
	if m.confirm != nil {
		out = m.dialog(out)
	}
	return out
}

func (m Model) header() []string {
	st, ctx := m.ctx.Styles, &m.ctx
	line1 := st.Title.Render("quotatop") + m.switcher.Badge() + st.Dim.Render(" · ") + ctx.Source.Address
	if ctx.Source.Prefix != "" {
		line1 += st.Dim.Render(" · ") + ctx.Source.Prefix
	}
	if ctx.Source.Mode != "" && ctx.Width >= 100 {
		line1 += st.Dim.Render(" · " + ctx.Source.Mode)
	}
	version := ""
	if v := m.gateway.version; v != "" {
		version = st.Dim.Render(" · sub2api " + v)
	}
	readMode := ""
	if m.readMode != "" {
		readMode = " " + readModeText(st, m.readMode, ctx.Width)
	}
	poll := "every " + model.FormatAge(m.interval)
	if m.interval < time.Second {
		poll = "every " + m.interval.String()
	}
	if m.stretched > m.interval {
		poll = st.Notice.Render("every " + model.FormatAge(m.stretched) + " (slow poll)")
	}
	switch {
	case m.frozen:
		poll = st.Notice.Render("‖ POLLING FROZEN (z)")
	case m.haveData && ctx.Width >= 100:
		poll += st.Dim.Render(fmt.Sprintf(" · last poll %s in %s", clock(ctx, m.lastGood), m.lastTook.Round(time.Millisecond)))
	case m.haveData: // narrow: the time alone (a duration beside it read as a second clock)
		poll += st.Dim.Render(" · " + clock(ctx, m.lastGood))
	default:
		poll += st.Dim.Render(" · first poll…")
	}
	// A narrow terminal keeps the last poll's time over the gateway's version, which the
	// detail view also gives.
	if lipgloss.Width(line1+version+readMode)+1+lipgloss.Width(poll) <= ctx.Width {
		line1 += version
	}
	line1 = joinEnds(line1+readMode, poll, ctx.Width)

	counts := m.fleet.Counts()
	countsLine := func(wide bool) string {
		var parts []string
		for _, s := range model.States {
			n := counts[s]
			if n == 0 && s != model.StatePaused && s != model.StateOK {
				continue
			}
			label := s.Glyph() + " " + fmt.Sprint(n)
			if wide {
				label += " " + string(s)
			}
			parts = append(parts, st.State[s].Render(label))
		}
		return st.Bold.Render(fmt.Sprintf("%d accounts", m.fleet.Total())) + "  " + strings.Join(parts, "  ")
	}
	// The counts with their state names, and the groups running dry in full, where they
	// fit; the dry groups' names give way last.
	var line2 string
	for _, form := range [...]struct{ wide, short bool }{{true, false}, {false, false}, {false, true}} {
		if form.wide && ctx.Width < 110 {
			continue
		}
		line2 = countsLine(form.wide)
		if dry := dryNote(ctx, m.trends, form.short); dry != "" {
			line2 += st.Dim.Render(" · ") + dry
		}
		if lipgloss.Width(line2) <= ctx.Width {
			break
		}
	}
	// Read-only is said where the eye goes first, not only when a refused key is pressed.
	if m.opts.Actions != nil && m.opts.Actions.ReadOnly() != "" {
		line2 = joinEnds(line2, st.Notice.Render("read-only"), ctx.Width)
	}
	return []string{fit(line1, ctx.Width, false), fit(line2, ctx.Width, false)}
}

func (m Model) banner() string {
	if m.lastErr == "" {
		return ""
	}
	ctx := &m.ctx
	what := "Redis unreachable"
	if ctx.Source.API {
		what = "admin API list failing"
	}
	text := fmt.Sprintf("✗ %s for %s: %s", what, model.FormatAge(ctx.Now.Sub(m.failSince)), m.lastErr)
	if m.haveData {
		text += fmt.Sprintf("; showing data from %s (%s)", clock(ctx, m.lastGood), ageSince(ctx.Now, m.lastGood))
	} else {
		text += "; no data yet"
	}
	if !m.frozen {
		text += " · retry " + relative(ctx, m.retryAt)
	}
	return ctx.Styles.Banner.Render(fit(text, ctx.Width, false))
}

func (m Model) statusLine() string {
	st, f := m.ctx.Styles, m.fleet
	left := ""
	if m.filterOn {
		left = m.filter.View()
	} else if q := m.filter.Value(); q != "" {
		left = st.FilterOn.Render("/ " + q)
	}
	shown := fmt.Sprintf("%d of %d shown", f.Len(), f.Total())
	if marked, hidden := f.MarkCounts(); hidden > 0 {
		shown += st.FilterOn.Render(fmt.Sprintf(" · %d marked, %d hidden", marked, hidden))
	} else if marked > 0 {
		shown += fmt.Sprintf(" · %d marked", marked)
	}
	states := f.StatesName()
	if f.states != showAll {
		states = st.FilterOn.Render(states)
	}
	right := st.Dim.Render("sort ") + f.SortName() + st.Dim.Render(" · states ") + states + st.Dim.Render(" · ") + shown
	return joinEnds(left, right, m.ctx.Width)
}

// footer shows the main keys; when they do not fit, the lesser ones give way first
// (KeyMap.Footer ranks them), but never help.
func (m Model) footer() string {
	st := m.ctx.Styles
	type part struct {
		text string
		rank int
	}
	var parts []part
	for _, h := range m.ctx.Keys.Footer() {
		if h.b.Enabled() {
			desc := h.b.Help().Desc
			if h.desc != "" {
				desc = h.desc
			}
			parts = append(parts, part{st.Key.Render(h.b.Help().Key) + " " + st.Help.Render(desc), h.rank})
		}
	}
	sep := st.Help.Render(" · ")
	join := func() string {
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = p.text
		}
		return strings.Join(texts, sep)
	}
	for len(parts) > 1 && lipgloss.Width(join()) > m.ctx.Width {
		least := 0
		for i, p := range parts {
			if p.rank > parts[least].rank {
				least = i
			}
		}
		if parts[least].rank == 0 {
			break
		}
		parts = slices.Delete(parts, least, least+1)
	}
	return fit(join(), m.ctx.Width, false)
}

func (m Model) tableView() string {
	ctx := &m.ctx
	lines := m.header()
	if g := m.gatewayLine(); g != "" {
		lines = append(lines, g)
	}
	if b := m.banner(); b != "" {
		lines = append(lines, b)
	}
	lines = append(lines, m.statusLine(), m.layout.header(ctx))
	rows := m.tableRows()
	f := m.fleet
	cursor := f.CursorPos()
	for i := m.offset; i < min(m.offset+rows, f.Len()); i++ {
		if i == cursor {
			r := f.Row(i)
			lines = append(lines, m.layout.render(ctx, r, true, f.Marked(r.acc.Key)))
			continue
		}
		lines = append(lines, m.cachedLine(f, i))
	}
	if f.Len() == 0 {
		msg := "no accounts match"
		if !m.haveData {
			msg = "waiting for the first poll…"
		} else if f.Total() == 0 && ctx.Source.API {
			msg = "the gateway's admin API lists no accounts"
		} else if f.Total() == 0 {
			msg = "no " + ctx.Source.Prefix + "meta:* keys in this Redis: check --prefix and the database number"
		}
		lines = append(lines, ctx.Styles.Dim.Render("  "+msg))
	}
	msgLine := m.messageLine()
	msgRows := 0
	if msgLine != "" {
		msgRows = strings.Count(msgLine, "\n") + 1
	}
	for len(lines) < ctx.Height-1-msgRows {
		lines = append(lines, "")
	}
	if msgLine != "" {
		lines = append(lines, msgLine)
	}
	lines = append(lines, m.footer())
	return strings.Join(lines, "\n")
}

func (m Model) detailView() string {
	help := "esc back · j/k scroll · ctrl+r poll now · ? help"
	if m.actionsEnabled() {
		help = "esc back · j/k scroll · p probe · u unpause · ctrl+r poll now · ? help"
	}
	return m.scrolled(m.ctx.Styles.Title.Render("Account details"), m.detailBody(), help)
}

// detailBody is the detail view's scrollable lines.
func (m Model) detailBody() []string {
	ctx := &m.ctx
	r, ok := m.fleet.FindAt(m.detailID, m.detailKey)
	var body []string
	if !ok {
		body = []string{ctx.Styles.Notice.Render(fmt.Sprintf("Account #%d is no longer in the storage.", m.detailID))}
	} else {
		extra := m.trendDetail(r)
		if r.dup != "" {
			extra = append(extra, ctx.Styles.Notice.Render("⚠ "+model.Sanitize(r.dup)+": two storage keys claim this ID, so quotatop will not act on it; fix the storage first."))
		}
		if res := m.results[r.acc.Key]; res != "" {
			extra = append(extra, ctx.Styles.Bold.Render("Last action"), "  "+res)
		}
		if run := m.running[r.acc.Key]; run != "" {
			extra = append(extra, ctx.Styles.Notice.Render("  ⟳ "+run+" running…"))
		}
		if r.j.HasSnapshot {
			extra = append(extra, ctx.Styles.Dim.Render("Thresholds marked \"gateway default\" come from the "+m.thresholdOrigin+"."))
		}
		if v := m.versionText(); v != "" {
			extra = append(extra, ctx.Styles.Dim.Render(v))
		}
		if lu := m.lastUsed; lu.id == r.acc.ID && lu.at.After(r.acc.LastUsedAt) {
			acc, withLU := *r.acc, *r
			acc.LastUsedAt, withLU.acc = lu.at, &acc
			r = &withLU
		}
		body = detailLines(ctx, r, extra)
	}
	return body
}

// lastScroll is the furthest a body of n lines scrolls: its last line at the bottom.
func (m Model) lastScroll(n int) int { return max(n-m.bodyHeight(), 0) }

func (m Model) helpView() string {
	st := m.ctx.Styles
	var body []string
	titles := []string{"Move", "Find and sort", "Act", "Polling"}
	// Key groups side by side as the width allows, so help fits 80x24 without scrolling.
	var blocks []string
	for i, group := range m.ctx.Keys.FullHelp() {
		rows := []string{st.Bold.Render(titles[i])}
		for _, b := range group {
			if b.Enabled() {
				rows = append(rows, fmt.Sprintf("  %s %s", st.Key.Render(fmt.Sprintf("%-8s", b.Help().Key)), b.Help().Desc))
			}
		}
		if len(rows) == 1 {
			rows = append(rows, st.Dim.Render("  read-only: no actions"), st.Dim.Render("  (they need --api and"), st.Dim.Render("  no --read-only)"))
		}
		blocks = append(blocks, lipgloss.NewStyle().Width(helpColumn).Render(strings.Join(rows, "\n")))
	}
	perRow := max(m.ctx.Width/helpColumn, 1)
	for i := 0; i < len(blocks); i += perRow {
		row := lipgloss.JoinHorizontal(lipgloss.Top, blocks[i:min(i+perRow, len(blocks))]...)
		body = append(append(body, strings.Split(row, "\n")...), "")
	}
	body = append(body, st.Bold.Render("States"))
	for _, l := range strings.Split(ansi.Wordwrap(legend(st), m.ctx.Width-4, ""), "\n") {
		body = append(body, "  "+l) // a wrapped legend keeps its indent
	}
	notes := []string{"",
		st.Dim.Render("Bars: used % with | at the account's threshold; \"reset\" when the window rolled over. Anthropic, Kimi and Zhipu accounts show their own windows (weekly as 7d), marked only at a scheduling threshold their platform sets."),
		st.Dim.Render("Age: snapshot age, ! when the gateway no longer trusts it (--stale-after); for Anthropic the age of its usage sample.")}
	for _, n := range notes {
		body = append(body, strings.Split(ansi.Wordwrap(n, m.ctx.Width-2, ""), "\n")...)
	}
	return m.scrolled(st.Title.Render("quotatop help"), body, "? or esc to close · j/k scroll")
}

func legend(st Styles) string {
	var parts []string
	for _, s := range model.States {
		parts = append(parts, st.State[s].Render(s.Glyph()+" "+string(s)))
	}
	return strings.Join(parts, "  ")
}

// scrolled draws a title, a scrollable body and a footer.
func (m Model) scrolled(title string, body []string, help string) string {
	height := m.bodyHeight()
	scroll := min(m.scroll, max(len(body)-height, 0))
	lines := []string{fit(title, m.ctx.Width, false)}
	for _, l := range body[scroll:min(scroll+height, len(body))] {
		lines = append(lines, fit(l, m.ctx.Width, false))
	}
	for len(lines) < m.ctx.Height-1 {
		lines = append(lines, "")
	}
	lines = append(lines, m.ctx.Styles.Help.Render(fit(help, m.ctx.Width, false)))
	return strings.Join(lines, "\n")
}

// filterPlaceholder is what the empty filter shows.
const filterPlaceholder = "name, id, platform, state, g<group>"

// filterWidth is how many columns the filter's text gets: the placeholder's at least,
// half the line where there is room.
func filterWidth(width int) int {
	return max(len(filterPlaceholder), width/2-4)
}

// joinEnds puts left and right text at the two ends of a line of width cells.
func joinEnds(left, right string, width int) string {
	gap := width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return fit(left+" "+right, width, false)
	}
	return left + strings.Repeat(" ", gap) + right
}
