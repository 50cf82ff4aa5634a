// Package cmdtest builds a Factory of fakes for the unit tests of apimctl's commands: a fixed
// snapshot instead of the live model, client-go's fake clientset (a Deployment rolls out at
// once), an in-memory audit log, an RBAC reviewer that allows what the test says, and buffers
// for the terminal. It stands in only at the command seam: what the commands change for real
// is tested against the lab.
package cmdtest
