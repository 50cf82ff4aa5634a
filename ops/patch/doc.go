// Package patch merges the vendor's patch archives and the site's customisations into one
// tree rooted at apigateway/, lays it as a new layer on the base gateway image and pushes it —
// no Docker daemon — with the provenance (base digest, each patch's name and SHA-256)
// recorded on the image. Archives are hostile input: every entry is checked (a regular file
// under apigateway/, no "..", no link or device), streamed to disk and bounded (Limits).
//
// It may import cluster/registry, ops/action and internal/.
package patch
