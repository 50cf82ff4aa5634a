package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Fault is what the lab injects into every process of an image tag.
type Fault struct {
	NeverReady bool    `json:"neverReady,omitempty"`
	ErrorRate  float64 `json:"errorRate,omitempty"`
}

// Faults maps image tags to their fault; `apimctl lab fault` writes it, the agent reads it
// each time it starts a process.
type Faults struct {
	Tags map[string]Fault `json:"tags"`
}

// ReadFaults reads the faults file; a missing file means no fault.
func ReadFaults(path string) (Faults, error) {
	f := Faults{Tags: map[string]Fault{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	if f.Tags == nil {
		f.Tags = map[string]Fault{}
	}
	return f, nil
}

// WriteFaults replaces the faults file.
func WriteFaults(path string, f Faults) error { return writeJSONAtomic(path, f) }

// env is the fault as apigw's hidden environment variables.
func (f Fault) env() []string {
	var out []string
	if f.NeverReady {
		out = append(out, "APIGW_FAULT_NEVER_READY=true")
	}
	if f.ErrorRate > 0 {
		out = append(out, fmt.Sprintf("APIGW_FAULT_ERROR_RATE=%g", f.ErrorRate))
	}
	return out
}
