// Package patch is `apimctl patch merge`: patch archives and customisations merged onto a
// base gateway image and pushed, without a Docker daemon; the push runs as an action of
// ops/patch through the one runner.
package patch
