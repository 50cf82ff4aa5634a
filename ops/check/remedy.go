package check

import (
	"strings"

	"github.com/apimctl/apimctl/ops/model"
)

// Remedy is the action that fixes finding f, when one does: the one place that maps a
// finding to an action (the console offers it beside the finding, the command line names
// it). Only findings about a gateway Deployment of s have one:
//   - a paused rollout (WKL-016) is resumed;
//   - a rollout past its progress deadline (WKL-017) and pods that crash or cannot pull
//     their image (WKL-015, typically a bad tag) are rolled back to the previous revision.
//
// The action's own checks still apply when it is prepared (an undo with no earlier revision
// is refused there, with the reason).
func Remedy(f model.Finding, s model.Snapshot) (model.Remedy, bool) {
	var action, label string
	switch f.ID {
	case rulePaused.ID:
		action, label = model.ActionResume, "resume "+f.Subject
	case ruleStuck.ID, rulePodsFailing.ID:
		action, label = model.ActionUndo, "roll "+f.Subject+" back to its previous revision"
	default:
		return model.Remedy{}, false
	}
	w, ok := deploymentOf(f.Subject, s.Topology)
	if !ok {
		return model.Remedy{}, false
	}
	verb := strings.TrimPrefix(action, "rollout.")
	cmd := "apimctl rollout " + verb + " " + w.Group
	if w.Group == "" {
		cmd = "apimctl rollout " + verb + " -"
	}
	if w.Role != model.RoleTraffic {
		cmd += " --role " + w.Role
	}
	return model.Remedy{Action: action, Namespace: w.Namespace, Deployment: w.Name, Role: w.Role, Group: w.Group,
		Label: label, Command: cmd}, true
}

// deploymentOf finds the APIM Deployment a finding's subject ("deployment/traffic") names.
func deploymentOf(subject string, t model.Topology) (model.Workload, bool) {
	name, ok := strings.CutPrefix(subject, "deployment/")
	if !ok {
		return model.Workload{}, false
	}
	c := &checker{s: model.Snapshot{Topology: t}}
	for _, w := range c.apimWorkloads() {
		if w.Kind == "Deployment" && w.Name == name {
			return w, true
		}
	}
	return model.Workload{}, false
}
