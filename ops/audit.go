package ops

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"time"
)

// AuditRecord is one line of the append-only audit log: who did what, against what, and how
// it ended. It never holds a secret.
type AuditRecord struct {
	Time    time.Time         `json:"time"`
	User    string            `json:"user"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	DryRun  bool              `json:"dryRun"`
	Outcome string            `json:"outcome"` // ok, failed, aborted
	Error   string            `json:"error,omitempty"`
	Details map[string]string `json:"details,omitempty"`
}

// AuditPath is $APIMCTL_AUDIT_LOG, else ~/.local/state/apimctl/audit.log.
func AuditPath() string {
	if p := os.Getenv("APIMCTL_AUDIT_LOG"); p != "" {
		return p
	}
	return filepath.Join(stateDir(), "audit.log")
}

// stateDir is apimctl's directory for what it keeps: $XDG_STATE_HOME/apimctl, else
// ~/.local/state/apimctl.
func stateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "apimctl")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "apimctl")
}

// Audit appends r to the audit log (O_APPEND: concurrent writers never interleave a line).
func Audit(r AuditRecord) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	if r.User == "" {
		if u, err := user.Current(); err == nil {
			r.User = u.Username
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p := AuditPath()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

// AuditOutcome writes r with its outcome: ok, or failed with err's text. It returns the
// audit log's own error, if writing failed.
func AuditOutcome(r AuditRecord, err error) error {
	r.Outcome = "ok"
	if err != nil {
		r.Outcome, r.Error = "failed", err.Error()
	}
	return Audit(r)
}
