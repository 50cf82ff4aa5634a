package model

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func TestDeploymentRolloutStatus(t *testing.T) {
	three := int32(3)
	dep := func(gen, observed int64, replicas, updated, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
		d := &appsv1.Deployment{}
		d.Name, d.Generation, d.Spec.Replicas = "traffic", gen, &three
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available, Conditions: conds}
		return d
	}
	stalled := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "too slow"}
	for _, c := range []struct {
		name    string
		d       *appsv1.Deployment
		gen     int64
		done    bool
		stalled string
		waiting string
	}{
		{"not observed", dep(5, 4, 3, 3, 3), 0, false, "", "waiting for the controller to see the change"},
		{"surging", dep(5, 5, 4, 1, 3), 0, false, "", "1 of 3 new replicas updated"},
		{"old pods left", dep(5, 5, 4, 3, 3), 0, false, "", "1 old replicas pending termination"},
		{"not yet available", dep(5, 5, 3, 3, 2), 0, false, "", "2 of 3 updated replicas available"},
		{"done", dep(5, 5, 3, 3, 3), 0, true, "", ""},
		{"done at an older generation asked", dep(5, 5, 3, 3, 3), 4, true, "", ""},
		{"a newer generation asked", dep(5, 5, 3, 3, 3), 6, false, "", "waiting for the controller to see the change"},
		{"stalled", dep(5, 5, 4, 1, 3, stalled), 0, false, "too slow", ""},
	} {
		p := DeploymentRolloutStatus(c.d, c.gen)
		if p.Done != c.done || p.Stalled != c.stalled || p.Waiting != c.waiting {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
}
