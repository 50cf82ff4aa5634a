// Package kube connects to the Kubernetes API with client-go, from a kubeconfig and context
// exactly as kubectl would.
//
// It may import nothing of the project above cluster/ (ops consumes it, never the reverse).
package kube
