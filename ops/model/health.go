package ops

import "fmt"

// Health is the one-word verdict on a snapshot.
type Health string

const (
	Healthy  Health = "healthy"
	Degraded Health = "degraded"
	// Unknown means the deployment could not be observed at all (no kube API).
	Unknown Health = "unknown"
)

// Verdict is Unknown when Kubernetes never answered, Degraded when any source fails or any
// finding is an error, Healthy otherwise.
func Verdict(s Snapshot) Health {
	kube := s.Source(SourceKube)
	if !kube.Synced {
		return Unknown
	}
	for _, src := range s.Sources {
		if src.Error != "" {
			return Degraded
		}
	}
	for _, f := range s.Findings {
		if f.Severity == SeverityError {
			return Degraded
		}
	}
	return Healthy
}

// StatusDocument is the JSON of `apimctl status` and `check`: the verdict and the snapshot.
// Its field set is frozen by a test.
type StatusDocument struct {
	Health Health `json:"health"`
	*Snapshot
}

// HumanBytes formats a byte count in binary units ("1.5 MiB"), for both front ends.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
