package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/quotatop/quotatop/events"
)

// Exec runs a command per batch with the batch's JSON on stdin.
type Exec struct {
	Argv    []string
	Timeout time.Duration
	// Env is the child's environment; NewExec passes quotatop's own minus its secrets.
	Env []string
}

// NewExec prepares --notify-exec: cmd is split into words like a shell would, without
// running one, unless shell is set (then it is /bin/sh -c cmd). secretEnv names more
// variables the command must not see: those a config file's context reads its
// credentials from.
func NewExec(cmd string, shell bool, timeout time.Duration, secretEnv ...string) (*Exec, error) {
	var argv []string
	if shell {
		if strings.TrimSpace(cmd) == "" {
			return nil, errors.New("--notify-exec is empty")
		}
		argv = []string{"/bin/sh", "-c", cmd}
	} else {
		var err error
		if argv, err = SplitArgs(cmd); err != nil {
			return nil, fmt.Errorf("--notify-exec: %w", err)
		}
		if len(argv) == 0 {
			return nil, errors.New("--notify-exec is empty")
		}
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &Exec{Argv: argv, Timeout: timeout, Env: childEnv(os.Environ(), secretEnv)}, nil
}

// childEnv drops quotatop's own variables (passwords, keys, the webhook URL) and those
// named in secret, so the command cannot leak what it was never meant to see.
func childEnv(env, secret []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "QUOTATOP_") && name != "REDIS_URL" && !slices.Contains(secret, name) {
			out = append(out, kv)
		}
	}
	return out
}

// Name is the program's name, for logs.
func (e *Exec) Name() string { return "exec " + e.Argv[0] }

// outputLimit keeps at most this much of a failing command's output for the log.
const outputLimit = 2048

// Send runs the command once; a non-zero exit, a timeout or a missing program is an error.
func (e *Exec) Send(ctx context.Context, b events.Batch) error {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Argv[0], e.Argv[1:]...)
	cmd.Stdin = bytes.NewReader(b.JSON())
	cmd.Env = e.Env
	out := &limitedBuffer{max: outputLimit}
	cmd.Stdout, cmd.Stderr = out, out
	// A child that keeps our pipes open (a shell's background job) must not hold us.
	cmd.WaitDelay = time.Second
	killGroup(cmd)
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("timed out after %s", e.Timeout)
	}
	if tail := strings.TrimSpace(out.String()); tail != "" {
		return fmt.Errorf("%s: %w: %s", e.Argv[0], err, tail)
	}
	return fmt.Errorf("%s: %w", e.Argv[0], err)
}

// limitedBuffer keeps the first max bytes written and discards the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// SplitArgs splits a command line into words as a POSIX shell would, honouring single
// and double quotes and backslashes, but with no expansion of any kind.
func SplitArgs(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i, inWord = i+1+end, true
		case c == '"':
			inWord = true
			for i++; ; i++ {
				if i >= len(s) {
					return nil, errors.New("unterminated double quote")
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
