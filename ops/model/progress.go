package model

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
)

// RolloutProgress is how far a Deployment has rolled out a generation of its spec.
type RolloutProgress struct {
	Desired   int32 `json:"desired"`
	Replicas  int32 `json:"replicas"`
	Updated   int32 `json:"updated"`
	Ready     int32 `json:"ready"`
	Available int32 `json:"available"`
	// Observed: the controller has seen the generation.
	Observed bool `json:"observed"`
	// Done: every replica runs the generation's template and is available, no old one is
	// left.
	Done bool `json:"done"`
	// Stalled is the controller's message when it gave up (ProgressDeadlineExceeded).
	Stalled string `json:"stalled,omitempty"`
	// Waiting says what the rollout waits for, as kubectl rollout status says it.
	Waiting string `json:"waiting,omitempty"`
}

// DeploymentRolloutStatus judges whether d has rolled out generation gen (its current
// generation when gen is 0), by kubectl's rule: the controller observed it, every desired
// replica is updated, no old replica is left, and every updated replica is available. It is
// the one place "rolled out" is decided: the topology, the rollout's wait and its badges all
// ask it.
func DeploymentRolloutStatus(d *appsv1.Deployment, gen int64) RolloutProgress {
	if gen == 0 {
		gen = d.Generation
	}
	s := d.Status
	p := RolloutProgress{Desired: replicas(d.Spec.Replicas), Replicas: s.Replicas, Updated: s.UpdatedReplicas, Ready: s.ReadyReplicas,
		Available: s.AvailableReplicas, Observed: s.ObservedGeneration >= gen}
	if !p.Observed {
		p.Waiting = "waiting for the controller to see the change"
		return p
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			p.Stalled = c.Message
			if p.Stalled == "" {
				p.Stalled = fmt.Sprintf("deployment %q exceeded its progress deadline", d.Name)
			}
			return p
		}
	}
	switch {
	case p.Updated < p.Desired:
		p.Waiting = fmt.Sprintf("%d of %d new replicas updated", p.Updated, p.Desired)
	case p.Replicas > p.Updated:
		p.Waiting = fmt.Sprintf("%d old replicas pending termination", p.Replicas-p.Updated)
	case p.Available < p.Updated:
		p.Waiting = fmt.Sprintf("%d of %d updated replicas available", p.Available, p.Updated)
	default:
		p.Done = true
	}
	return p
}
