package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/quotatop/quotatop/model"
)

// Record is one audit line. Credentials are never part of it.
type Record struct {
	Time          time.Time `json:"time"`
	User          string    `json:"user"`
	Host          string    `json:"host"`
	SSHConnection string    `json:"ssh_connection,omitempty"`
	Action        Kind      `json:"action"`
	Phase         string    `json:"phase"` // start or end
	AccountID     int64     `json:"account_id"`
	AccountName   string    `json:"account_name"`
	Reason        string    `json:"reason"`
	HTTPStatus    int       `json:"http_status,omitempty"`
	Outcome       string    `json:"outcome,omitempty"`
	DurationMS    int64     `json:"duration_ms,omitempty"`
}

// Audit appends JSON lines to a file only its owner can read.
type Audit struct {
	mu         sync.Mutex
	path       string
	user, host string
	ssh        string
}

// DefaultAuditPath is $XDG_STATE_HOME/quotatop/audit.jsonl, else ~/.local/state/....
func DefaultAuditPath(getenv func(string) string) string {
	base := getenv("XDG_STATE_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "quotatop", "audit.jsonl")
}

// NewAudit prepares the log at path; nothing is written until the first action.
func NewAudit(path string, getenv func(string) string) *Audit {
	a := &Audit{path: path, ssh: getenv("SSH_CONNECTION")}
	if u, err := user.Current(); err == nil {
		a.user = u.Username
	} else {
		a.user = getenv("USER")
	}
	a.host, _ = os.Hostname()
	return a
}

// Path is where the log is.
func (a *Audit) Path() string { return a.path }

// Write appends one record, creating the file 0600 (and its folder 0700) if needed.
func (a *Audit) Write(r Record) error {
	r.User, r.Host, r.SSHConnection = a.user, a.host, a.ssh
	// Outcomes can quote a gateway: keep lines short and inert.
	r.AccountName, r.Reason, r.Outcome = model.OutsideText(r.AccountName), model.OutsideText(r.Reason), model.OutsideText(r.Outcome)
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	f, err := openPrivateAppend(a.path)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	return f.Close()
}

// openPrivateAppend opens the log for appending without following a symbolic link (one
// planted at the path would redirect the trail), refuses anything but a regular file, and
// takes away any access a wider mode gave others.
func openPrivateAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("audit log %s is a symbolic link: quotatop does not follow it; give the real file with --audit-log", path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("audit log %s is not a regular file", path)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit log %s is readable by others (mode %v) and cannot be made private: %w", path, info.Mode().Perm(), err)
		}
	}
	return f, nil
}
