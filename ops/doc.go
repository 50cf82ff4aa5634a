// Package ops is what the two front ends share: its subpackages hold the model and its
// judgements (model), the rules (check), the live sources (live), the one action runner
// (action) and the use cases that change things (rollout, dr, patch). This package itself is
// the console's door to the actions: Console prepares each change through the runner as a
// Proposal the TUI shows and confirms — the same action its subcommand builds — and reads
// what the console's dialogs list (a Deployment's history, the backups).
//
// It may import every part of ops; the TUI imports it (and ops/model, ops/action, ops/check)
// but nothing below.
package ops
