package proxy

import (
	"sort"
	"strings"
)

// router finds the API of a path by longest path prefix. An API at /orders matches /orders,
// /orders/ and /orders/1 but not /ordersX. A linear scan over a few dozen prefixes beats a
// map of every segment and allocates nothing.
type router struct {
	routes []*route // longest prefix first
}

func newRouter(rs []*route) *router {
	sorted := append([]*route(nil), rs...)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i].prefix) > len(sorted[j].prefix) })
	return &router{routes: sorted}
}

func (rt *router) match(path string) *route {
	for _, r := range rt.routes {
		p := r.prefix
		if !strings.HasPrefix(path, p) {
			continue
		}
		if len(path) == len(p) || p[len(p)-1] == '/' || path[len(p)] == '/' {
			return r
		}
	}
	return nil
}
