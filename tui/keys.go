package tui

import "charm.land/bubbles/v2/key"

// KeyMap is the one list of key bindings: it drives Update, the help overlay and the
// footer. A binding that does not apply is disabled here, not special-cased elsewhere.
type KeyMap struct {
	Up, Down, Top, Bottom, PageUp, PageDown, HalfUp, HalfDown key.Binding
	Filter, ClearFilter, StateFilter, Sort, Reverse           key.Binding
	Detail, Back, Help, Quit, Events                          key.Binding
	Refresh, Freeze, Faster, Slower                           key.Binding
	Mark, MarkAll, Probe, Unpause                             key.Binding
	Contexts, Groups                                          key.Binding
}

// DefaultKeyMap returns vim keys and arrows, as operators expect from k9s or htop.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, helpKey, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
	}
	return KeyMap{
		Up:          b([]string{"k", "up"}, "↑/k", "up"),
		Down:        b([]string{"j", "down"}, "↓/j", "down"),
		Top:         b([]string{"g", "home"}, "g", "top"),
		Bottom:      b([]string{"G", "end"}, "G", "bottom"),
		PageUp:      b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown:    b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		HalfUp:      b([]string{"ctrl+u"}, "ctrl+u", "half page up"),
		HalfDown:    b([]string{"ctrl+d"}, "ctrl+d", "half page down"),
		Filter:      b([]string{"/"}, "/", "filter"),
		ClearFilter: b([]string{"esc"}, "esc", "clear filter/marks"),
		StateFilter: b([]string{"f"}, "f", "states"),
		Sort:        b([]string{"s"}, "s", "sort"),
		Reverse:     b([]string{"S"}, "S", "reverse sort"),
		Detail:      b([]string{"enter"}, "enter", "details"),
		Back:        b([]string{"esc", "enter", "q"}, "esc", "back"),
		Help:        b([]string{"?"}, "?", "help"),
		Events:      b([]string{"e"}, "e", "events"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "quit"),
		Refresh:     b([]string{"ctrl+r"}, "ctrl+r", "poll now"),
		Freeze:      b([]string{"z"}, "z", "freeze"),
		Faster:      b([]string{"+", "="}, "+", "poll faster"),
		Slower:      b([]string{"-"}, "-", "poll slower"),
		Mark:        b([]string{"space"}, "space", "mark"),
		MarkAll:     b([]string{"ctrl+a"}, "ctrl+a", "mark all shown"),
		Probe:       b([]string{"p"}, "p", "refresh probe"),
		Unpause:     b([]string{"u"}, "u", "unpause"),
		Contexts:    b([]string{"c"}, "c", "switch context"),
		Groups:      b([]string{"t"}, "t", "groups"),
	}
}

// footerHint is one key in the footer: its binding, a shorter description where the
// help overlay's is long ("" keeps it), and its rank: the higher the rank, the sooner
// it gives way when the footer does not fit.
type footerHint struct {
	b    key.Binding
	desc string
	rank int
}

// Footer is the footer in display order. At 80 columns with actions it keeps help,
// filter, details, groups, the two actions and quit; help never goes.
func (k KeyMap) Footer() []footerHint {
	return []footerHint{
		{k.Help, "", 0}, {k.Filter, "", 2}, {k.StateFilter, "", 7}, {k.Detail, "", 3}, {k.Sort, "", 8}, {k.Groups, "", 6},
		{k.Events, "", 9}, {k.Probe, "probe", 4}, {k.Unpause, "", 5}, {k.Contexts, "context", 10}, {k.Freeze, "", 11}, {k.Quit, "", 1},
	}
}

// FullHelp is the help overlay, in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown},
		{k.Filter, k.ClearFilter, k.StateFilter, k.Sort, k.Reverse, k.Detail, k.Events, k.Groups},
		{k.Mark, k.MarkAll, k.Probe, k.Unpause},
		{k.Refresh, k.Freeze, k.Faster, k.Slower, k.Contexts, k.Help, k.Quit},
	}
}
