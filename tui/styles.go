package tui

import (
	"charm.land/lipgloss/v2"
	"github.com/quotatop/quotatop/model"
)

// Styles holds every style the monitor uses, built once per colour setting so no frame
// builds a style. Without colour, severity still reads through glyphs and words, and the
// cursor through reverse video.
type Styles struct {
	Color bool

	Title, Dim, Bold, Key, Help lipgloss.Style
	Header, ColumnHeader        lipgloss.Style
	Cursor, Marked              lipgloss.Style
	Banner, Notice, FilterOn    lipgloss.Style

	State map[model.State]lipgloss.Style

	BarFill, BarWarn, BarOver, BarEmpty, BarMark, BarReset lipgloss.Style
	AgeFresh, AgeAging, AgeStale                           lipgloss.Style
}

// NewStyles builds the styles; color false gives a colourless screen.
func NewStyles(color bool) Styles {
	s := Styles{Color: color}
	plain := lipgloss.NewStyle()
	s.Bold = plain.Bold(true)
	s.Title = plain.Bold(true)
	s.Dim = plain
	s.Key = plain.Bold(true)
	s.Help = plain
	s.Header = plain
	s.ColumnHeader = plain.Bold(true)
	s.Cursor = plain.Reverse(true)
	s.Marked = plain.Bold(true)
	s.Banner = plain.Reverse(true).Bold(true)
	s.Notice = plain.Bold(true)
	s.FilterOn = plain.Bold(true)
	s.State = map[model.State]lipgloss.Style{}
	for _, st := range model.States {
		s.State[st] = plain
	}
	for _, st := range []model.State{model.StateInvalid, model.StateError, model.StatePaused} {
		s.State[st] = plain.Bold(true)
	}
	s.BarFill, s.BarWarn, s.BarOver, s.BarEmpty, s.BarMark, s.BarReset = plain, plain, plain.Bold(true), plain, plain.Bold(true), plain
	s.AgeFresh, s.AgeAging, s.AgeStale = plain, plain, plain.Bold(true)
	if !color {
		return s
	}

	// ANSI 256 indexes: they look the same in every 256-colour terminal and tmux, and
	// Bubble Tea downsamples them on 16-colour terminals.
	c := func(code string) lipgloss.Style { return plain.Foreground(lipgloss.Color(code)) }
	red, orange, yellow, green, blue, magenta, grey, darkGrey := c("196"), c("208"), c("220"), c("34"), c("39"), c("170"), c("245"), c("239")
	s.Title = plain.Bold(true).Foreground(lipgloss.Color("39"))
	s.Dim = grey
	s.Key = plain.Bold(true).Foreground(lipgloss.Color("39"))
	s.Help = grey
	s.ColumnHeader = plain.Bold(true).Foreground(lipgloss.Color("250"))
	s.Cursor = plain.Background(lipgloss.Color("237")).Bold(true)
	s.Marked = plain.Foreground(lipgloss.Color("213")).Bold(true)
	s.Banner = plain.Background(lipgloss.Color("124")).Foreground(lipgloss.Color("231")).Bold(true)
	s.Notice = plain.Foreground(lipgloss.Color("220")).Bold(true)
	s.FilterOn = plain.Foreground(lipgloss.Color("213")).Bold(true)
	s.State[model.StateInvalid] = magenta.Bold(true)
	s.State[model.StateDisabled] = grey
	s.State[model.StateError] = red.Bold(true)
	s.State[model.StateBlocked] = orange
	s.State[model.StatePaused] = red.Bold(true)
	s.State[model.StateStaleProbe] = blue.Bold(true)
	s.State[model.StateWarn] = yellow
	s.State[model.StateOK] = green
	s.BarFill, s.BarWarn, s.BarOver, s.BarEmpty, s.BarMark, s.BarReset = green, yellow, red, darkGrey, plain.Bold(true).Foreground(lipgloss.Color("231")), darkGrey
	s.AgeFresh, s.AgeAging, s.AgeStale = grey, yellow, red.Bold(true)
	return s
}
