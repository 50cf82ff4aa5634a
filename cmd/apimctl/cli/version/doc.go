// Package version is `apimctl version`.
package version
