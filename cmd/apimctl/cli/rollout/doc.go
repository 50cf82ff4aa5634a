// Package rollout is `apimctl rollout`: set-image with preflight, metric gate and automatic
// rollback; status, history, undo, pause, resume, restart. Every change runs as an action of
// ops/rollout through the one runner.
package rollout
