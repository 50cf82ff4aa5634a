package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apimctl/apimctl/internal/redact"
	"github.com/apimctl/apimctl/internal/statedir"
)

// Phases of an action in the audit log. A change leaves an intent record before it starts
// and an outcome record after it ends, both with the run's ID; a refusal, a declined prompt
// and a dry run leave one record each.
const (
	PhaseIntent   = "intent"
	PhaseOutcome  = "outcome"
	PhaseRefused  = "refused"
	PhaseDeclined = "declined"
	PhaseDryRun   = "dry-run"
)

// Outcomes recorded in the audit log.
const (
	OutcomeOK       = "ok"
	OutcomeFailed   = "failed"
	OutcomeRefused  = "refused"
	OutcomeDeclined = "declined"
)

// Scope is everything that defines an action's target: two actions with the same name and
// scope change the same thing.
type Scope struct {
	Context   string `json:"context,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Resource is what is changed: deployment/traffic, a backup's ID, a lab component.
	Resource string `json:"resource,omitempty"`
	// KeyspaceMap maps a backup's keyspaces to the target's; Keyspaces are the target's.
	KeyspaceMap map[string]string `json:"keyspaceMap,omitempty"`
	Keyspaces   []string          `json:"keyspaces,omitempty"`
	Database    string            `json:"database,omitempty"`
	Image       string            `json:"image,omitempty"`
	// Location is where backups are kept: a directory or azure://container/prefix.
	Location string `json:"location,omitempty"`
}

// String is the scope on one line: "lab/apim deployment/traffic".
func (s Scope) String() string {
	var parts []string
	where := s.Context
	if s.Namespace != "" {
		where = strings.TrimPrefix(where+"/"+s.Namespace, "/")
	}
	for _, p := range []string{where, s.Resource, redact.URL(s.Location)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if s.Image != "" && s.Image != s.Resource {
		parts = append(parts, s.Image)
	}
	if s.Database != "" {
		parts = append(parts, "database "+s.Database)
	}
	if len(s.KeyspaceMap) > 0 {
		var m []string
		for from, to := range s.KeyspaceMap {
			m = append(m, from+"→"+to)
		}
		sort.Strings(m)
		parts = append(parts, "keyspaces "+strings.Join(m, ","))
	} else if len(s.Keyspaces) > 0 {
		parts = append(parts, "keyspaces "+strings.Join(s.Keyspaces, ","))
	}
	return strings.Join(parts, " ")
}

// Record is one line of the append-only audit log: who did what, against what, and how it
// ended. It never holds a secret: URLs in it are redacted.
type Record struct {
	Time time.Time `json:"time"`
	// ID ties an intent to its outcome.
	ID    string `json:"id"`
	Phase string `json:"phase"`
	// User is the OS user on the bastion (SudoUser who became it with sudo); KubeUser the
	// Kubernetes identity the action ran as, as the API server names it.
	User     string `json:"user"`
	SudoUser string `json:"sudoUser,omitempty"`
	KubeUser string `json:"kubeUser,omitempty"`
	Action   string `json:"action"`
	// Target is the scope on one line; the scope's fields follow it.
	Target string `json:"target"`
	Scope
	DryRun  bool              `json:"dryRun"`
	Outcome string            `json:"outcome,omitempty"`
	Error   string            `json:"error,omitempty"`
	Details map[string]string `json:"details,omitempty"`
	// Via is the front end: cli or console.
	Via string `json:"via,omitempty"`
}

// Sink stores audit records. Write returns only when the record is durable: an action whose
// intent cannot be recorded does not run.
type Sink interface {
	Write(r Record) error
}

// DefaultAuditPath is $APIMCTL_AUDIT_LOG, else audit.log in apimctl's state directory.
func DefaultAuditPath(getenv func(string) string) string {
	return statedir.Path(getenv, "APIMCTL_AUDIT_LOG", "audit.log")
}

// FileSink appends JSON lines to a file (0600, directory 0700), fsynced after each record.
// O_APPEND keeps concurrent writers' lines whole.
type FileSink struct{ Path string }

func (s FileSink) Write(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return fmt.Errorf("audit log %s: %w", s.Path, err)
	}
	f, err := os.OpenFile(s.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit log %s: %w", s.Path, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", s.Path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", s.Path, err)
	}
	return f.Close()
}

// ReadLog reads an audit log's records, oldest first (a missing file is an empty log).
func ReadLog(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return out, fmt.Errorf("audit log %s: %w", path, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// MemorySink keeps records in memory (tests, and front ends that show the last actions).
type MemorySink struct {
	mu      sync.Mutex
	records []Record
	// Err, when set, is returned by Write instead of storing (an unwritable log).
	Err error
}

func (s *MemorySink) Write(r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.records = append(s.records, r)
	return nil
}

// Records returns a copy of what was written.
func (s *MemorySink) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// Tail reads the last n records of an audit log, oldest first, without reading the whole
// file (it reads at most its last 256 KiB); a missing file is an empty log.
func Tail(path string, n int) ([]Record, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	const window = 256 << 10
	off := max(st.Size()-window, 0)
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // the first is cut
	}
	var out []Record
	for i := max(len(lines)-n, 0); i < len(lines); i++ {
		var r Record
		if json.Unmarshal([]byte(lines[i]), &r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}
