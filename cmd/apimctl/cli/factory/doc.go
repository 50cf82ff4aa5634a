// Package factory wires the real dependencies of apimctl's commands: the kube context and the
// data stores resolved once per process, the live model, the action runner with the audit log,
// the registry, the terminal UI.
package factory
