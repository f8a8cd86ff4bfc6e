package tui

import (
	"context"
	"io"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run shows the monitor until the operator quits. Bubble Tea restores the terminal on
// exit and on panic.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) error {
	// 20 frames a second is plenty for a monitor and keeps an idle one cheap: each frame
	// wakes the runtime even when nothing changed.
	progOpts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(20)}
	if in != nil {
		progOpts = append(progOpts, tea.WithInput(in))
	}
	if out != nil {
		progOpts = append(progOpts, tea.WithOutput(out))
	}
	if !opts.Color {
		progOpts = append(progOpts, tea.WithColorProfile(colorprofile.Ascii))
	}
	_, err := tea.NewProgram(New(opts), progOpts...).Run()
	return err
}
