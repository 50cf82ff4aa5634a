// Package rollout drives a gateway Deployment's image: the plan and its preflight, the rolling
// update watched to the end, the metric gate on the new pods' 5xx ratio from Prometheus, the
// automatic rollback; history, undo, pause, resume, restart — each change an action for the
// one runner (ops/action).
//
// It may import ops/model, ops/action, ops/live, cluster/ and client-go.
package rollout
