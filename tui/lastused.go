package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/quotatop/quotatop/model"
)

// accountReader is a Reader that can read one account afresh, last use included. Polls
// skip the last-use keys (they double the reads, and only the detail view shows them), so
// the detail view reads its account's when it opens.
type accountReader interface {
	ReadAccount(ctx context.Context, id int64) (model.Account, error)
}

// lastUsedMsg is an account's last use, read for the detail view.
type lastUsedMsg struct {
	id int64
	at time.Time
}

func (m Model) readLastUsed(id int64) tea.Cmd {
	reader, ok := m.opts.Reader.(accountReader)
	if !ok {
		return nil
	}
	timeout := m.opts.PollTimeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		a, err := reader.ReadAccount(ctx, id)
		if err != nil {
			return nil // the poll's own value stays; a failing storage shows in the banner
		}
		return lastUsedMsg{id: id, at: a.LastUsedAt}
	}
}
