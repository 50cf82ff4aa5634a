// Package deploy holds the Kubernetes manifests of the reference topology (base/, usable with
// `kubectl apply -k deploy/base`) and renders them for a target: namespace, images, extra pod
// annotations, and the two credential Secrets the gateways read.
package deploy
