package model

// Remedy is an action that fixes a finding, offered beside it: the console starts its
// dialog, the command line names the subcommand. ops/check decides which finding has one.
type Remedy struct {
	// Action is the audit log's name of the action: rollout.resume, rollout.undo, ….
	Action string `json:"action"`
	// The Deployment it acts on, as the rollout commands name it.
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	Role       string `json:"role"`
	Group      string `json:"group,omitempty"`
	// Label says it in a few words: "resume deployment/traffic".
	Label string `json:"label"`
	// Command is the same action on the command line.
	Command string `json:"command"`
}

// Actions a console offers on a gateway Deployment.
const (
	ActionRollout = "rollout.set-image"
	ActionUndo    = "rollout.undo"
	ActionPause   = "rollout.pause"
	ActionResume  = "rollout.resume"
	ActionRestart = "rollout.restart"
)

// ActionAccess is the permission, as Access names it, that an identity needs before the
// console offers action ("" for an action that needs none of the namespace). The runner asks
// the API server again when the action is prepared; this only keeps keys from offering
// what would be refused.
func ActionAccess(action string) string {
	switch action {
	case ActionRollout, ActionPause, ActionResume, ActionRestart:
		return "deployments/patch"
	case ActionUndo:
		return "deployments/update" // undo replaces the pod template, as kubectl does
	}
	return ""
}
