package main

import (
	"bytes"
	"io"

	"github.com/quotatop/quotatop/model"
)

// stderrLineMax bounds one line on stderr: far above any sentence quotatop writes, far
// below a hostile multi-megabyte error message.
const stderrLineMax = 2000

// inertWriter makes everything written to stderr inert for the terminal, line by line,
// as a second guard behind the sanitising where each sentence is built.
type inertWriter struct{ w io.Writer }

func (iw inertWriter) Write(p []byte) (int, error) {
	lines := bytes.Split(p, []byte{'\n'})
	var out bytes.Buffer
	out.Grow(len(p))
	for i, line := range lines {
		if i > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(model.Cut(string(line), stderrLineMax))
	}
	if _, err := iw.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
