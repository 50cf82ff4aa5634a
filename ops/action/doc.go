// Package action is the one place every change apimctl makes goes through, from a subcommand
// or from the console. A Runner applies, in this order: read-only mode (refused, exit 4), the
// RBAC pre-check asked of the API server (exit 4), the preflight blockers (exit 3), the
// server-side validation (exit 2), the dry run (recorded, stops there), the confirmation on a
// terminal or --yes (declined: exit 5; no terminal and no --yes: exit 2), an audit record of
// the intent written and fsynced before anything changes (none written: nothing runs), the
// change itself, and an audit record of its outcome.
//
// It imports nothing of the project but internal helpers: the use cases (rollout, backup,
// restore, patch push, lab) build Actions, the front ends run them.
package action
