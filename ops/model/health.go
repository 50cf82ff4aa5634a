package model

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
