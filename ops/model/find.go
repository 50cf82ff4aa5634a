package model

import (
	"fmt"
	"strings"
)

// FindWorkload returns the Deployment of a role (traffic, apimgr, anm) and gateway group.
func FindWorkload(t Topology, role, group string) (*Workload, error) {
	var cands []Workload
	switch role {
	case RoleANM:
		cands = t.ANM
	case RoleTraffic, RoleAPIManager:
		var groups []string
		found := false
		for _, g := range t.Groups {
			groups = append(groups, g.Name)
			if g.Name != group {
				continue
			}
			found = true
			if role == RoleTraffic {
				cands = g.Traffic
			} else {
				cands = g.APIManager
			}
		}
		if !found {
			return nil, fmt.Errorf("no gateway group %q (groups: %s)", group, orNone(groups))
		}
	default:
		return nil, fmt.Errorf("unknown role %q: traffic, apimgr or anm", role)
	}
	var deps []Workload
	for _, w := range cands {
		if w.Kind == "Deployment" {
			deps = append(deps, w)
		}
	}
	switch len(deps) {
	case 0:
		return nil, fmt.Errorf("no %s Deployment in group %q", role, group)
	case 1:
		return &deps[0], nil
	}
	var names []string
	for _, d := range deps {
		names = append(names, d.Name)
	}
	return nil, fmt.Errorf("%d %s Deployments in group %q (%s): label them apart", len(deps), role, group, strings.Join(names, ", "))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
