package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/apimctl/apimctl/lab/agent"
)

// procRecord is what a PID file holds. StartTime (clock ticks since boot, from /proc/PID/stat)
// guards against PID reuse: a PID whose start time differs is not ours any more.
type procRecord struct {
	Name      string   `json:"name"`
	PID       int      `json:"pid"`
	StartTime uint64   `json:"startTime"`
	Args      []string `json:"args"`
	Log       string   `json:"log"`
}

// procState reads a process's state letter and start time from /proc (one parser, shared
// with the lab agent's records).
func procState(pid int) (state byte, start uint64, err error) { return agent.ProcState(pid) }

// alive reports whether the recorded process still runs (a zombie counts as dead).
func (r *procRecord) alive() bool {
	return agent.Record{PID: r.PID, StartTime: r.StartTime}.Alive() // the agent's records' rule
}

// rssKiB is the resident memory of the process in KiB, 0 if unknown.
func (r *procRecord) rssKiB() int64 { return ResidentKiB(r.PID) }

// ResidentKiB is the resident memory (VmRSS) of process pid in KiB, 0 if unknown (one
// reader, shared with the lab agent's records).
func ResidentKiB(pid int) int64 { return agent.ResidentKiB(pid) }

func pidPath(stateDir, name string) string { return filepath.Join(stateDir, "run", name+".pid") }

// Running reports whether the lab in stateDir runs component name: its PID file names a
// live process that is the one the lab started (not a PID reused since).
func Running(stateDir, name string) bool {
	r, err := readRecord(stateDir, name)
	return err == nil && r.alive()
}

func readRecord(stateDir, name string) (*procRecord, error) {
	b, err := os.ReadFile(pidPath(stateDir, name))
	if err != nil {
		return nil, err
	}
	var r procRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("pid file of %s: %w", name, err)
	}
	return &r, nil
}

// started is a process this invocation started; exited is closed when it ends (we reap it, so
// a crash during start-up is seen at once instead of as a zombie that still "exists").
type started struct {
	rec    *procRecord
	exited chan struct{}
	err    error
}

// startProcess starts cmd detached in its own session (so it outlives apimctl), logging to
// logPath, and records its PID file.
func startProcess(stateDir, name string, cmd *exec.Cmd, logPath string) (*started, error) {
	if err := os.MkdirAll(filepath.Join(stateDir, "run"), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n--- %s starting %s\n", time.Now().Format(time.RFC3339), name)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = logf, logf, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	_, st, err := procState(cmd.Process.Pid)
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	rec := &procRecord{Name: name, PID: cmd.Process.Pid, StartTime: st, Args: cmd.Args, Log: logPath}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := writeFileAtomic(pidPath(stateDir, name), b, 0o644); err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	s := &started{rec: rec, exited: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	return s, nil
}

// stopProcess ends the recorded process by PID: SIGTERM, then SIGKILL after grace. It removes
// the PID file once the process is gone. A record whose process is already gone is cleaned up.
func stopProcess(stateDir string, r *procRecord, grace time.Duration) error {
	if r.alive() {
		_ = syscall.Kill(r.PID, syscall.SIGTERM)
		if !waitGone(r, grace) {
			_ = syscall.Kill(r.PID, syscall.SIGKILL)
			if !waitGone(r, 10*time.Second) {
				return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", r.Name, r.PID)
			}
		}
	}
	if err := os.Remove(pidPath(stateDir, r.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func waitGone(r *procRecord, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !r.alive() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return !r.alive()
}

// tailFile returns the last n lines of a log, for error messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
