package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Record is what the agent keeps on disk for each pod's running process: its PID file. Lab
// down, lab status and the drills read it; StartTime (clock ticks since boot) guards against
// PID reuse.
type Record struct {
	Namespace string    `json:"namespace"`
	Pod       string    `json:"pod"`
	UID       string    `json:"uid"`
	Node      string    `json:"node"`
	IP        string    `json:"ip"`
	Image     string    `json:"image"`
	Tag       string    `json:"tag"`
	PID       int       `json:"pid"`
	StartTime uint64    `json:"startTime"`
	Started   time.Time `json:"started"`
	Restarts  int32     `json:"restarts"`
	Log       string    `json:"log"`
}

const recordFile = "process.json"

// PodsDir is where the agent keeps one directory per pod under its state directory.
func PodsDir(agentDir string) string { return filepath.Join(agentDir, "pods") }

// ReadRecords returns the record of every pod process the agent started (running or not).
func ReadRecords(agentDir string) ([]Record, error) {
	files, err := filepath.Glob(filepath.Join(PodsDir(agentDir), "*", recordFile))
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // removed since the glob: the pod is gone
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Alive reports whether the recorded process still runs (a zombie counts as dead).
func (r Record) Alive() bool {
	st, start, err := ProcState(r.PID)
	return err == nil && start == r.StartTime && st != 'Z' && st != 'X'
}

// RSSKiB is the resident memory of the process in KiB, 0 if unknown.
func (r Record) RSSKiB() int64 { return ResidentKiB(r.PID) }

// ResidentKiB is the resident memory (VmRSS) of process pid in KiB, 0 if unknown.
func ResidentKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// Kill ends the recorded process if it is still ours: SIGTERM, then SIGKILL after grace.
func (r Record) Kill(grace time.Duration) {
	if !r.Alive() {
		return
	}
	_ = syscall.Kill(r.PID, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !r.Alive() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.Alive() {
		_ = syscall.Kill(r.PID, syscall.SIGKILL)
	}
}

// ProcState reads a process's state letter and start time from /proc.
func ProcState(pid int) (state byte, start uint64, err error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, 0, err
	}
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, err
}

// procStat reads the fields of /proc/PID/stat that follow the command name: the state
// letter first (field 3 of proc(5)).
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return strings.Fields(s[i+1:]), nil
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
