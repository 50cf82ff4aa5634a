// Package registry asks OCI registries about images with go-containerregistry: no Docker
// daemon, the credentials of the Docker keychain (~/.docker/config.json, helpers).
//
// It may import nothing of the project above cluster/ (ops consumes it, never the reverse).
package registry
