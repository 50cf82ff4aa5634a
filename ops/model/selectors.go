package model

import "strings"

// Selectors say how roles and groups are read from labels.
//
// A workload's role is the first of RoleLabels (on the workload, then on its pod template)
// whose value RoleValues knows; failing that, the first NameHints entry its name matches.
// Its group is the first GroupLabels value found, else DefaultGroup.
type Selectors struct {
	RoleLabels []string
	// RoleValues maps a label value (compared lower-cased) to RoleANM, RoleAPIManager or
	// RoleTraffic.
	RoleValues  map[string]string
	GroupLabels []string
	// NameHints classify workloads whose labels say nothing, by name.
	NameHints    []NameHint
	DefaultGroup string
	// PoolLabel is the node label naming a node pool; ZoneLabels the node labels naming its
	// zone, first found wins.
	PoolLabel  string
	ZoneLabels []string
	// MaxEvents caps the events Discover returns (newest kept).
	MaxEvents int
}

// NameHint classifies a workload by name: Token must be one of the name's "-", "_" or "."
// separated parts when WholeToken, else any substring.
type NameHint struct {
	Token      string
	WholeToken bool
	Role       string
}

// DefaultSelectors covers this project's deploy/ labels and the conventions of Axway's public
// Helm charts:
//   - deploy/: apimctl.dev/role (anm|apimgr|traffic), apimctl.dev/group, and
//     app.kubernetes.io/component admin-node-manager|api-manager|traffic-gateway;
//   - Axway/Cloud-Automation APIM/Helmchart (chart "axway-apim" 2.x): app.kubernetes.io/component
//     anm|apimgr|apitraffic and app.kubernetes.io/name axway-apim-anm|axway-apim-apimgr|
//     axway-apim-traffic (also the Deployment names);
//   - its older amplify-apim-7.7 chart and Axway/apigw-helm-charts: app anm|apimgr|traffic,
//     and apimgmt for the API Manager UI.
//
// None of those charts labels the gateway group: it defaults to "default".
func DefaultSelectors() Selectors {
	return Selectors{
		RoleLabels: []string{LabelRole, "app.kubernetes.io/component", "app.kubernetes.io/name", "app"},
		RoleValues: map[string]string{
			"anm":                RoleANM,
			"admin-node-manager": RoleANM,
			"axway-apim-anm":     RoleANM,
			"apimgr":             RoleAPIManager,
			"api-manager":        RoleAPIManager,
			"apimgmt":            RoleAPIManager,
			"axway-apim-apimgr":  RoleAPIManager,
			"traffic":            RoleTraffic,
			"traffic-gateway":    RoleTraffic,
			"apitraffic":         RoleTraffic,
			"api-traffic":        RoleTraffic,
			"axway-apim-traffic": RoleTraffic,
		},
		GroupLabels: []string{LabelGroup},
		NameHints: []NameHint{
			{Token: "apimgr", Role: RoleAPIManager},
			{Token: "apimgmt", Role: RoleAPIManager},
			{Token: "api-manager", Role: RoleAPIManager},
			{Token: "traffic", Role: RoleTraffic},
			// "anm" is short enough to occur inside unrelated words.
			{Token: "anm", WholeToken: true, Role: RoleANM},
		},
		DefaultGroup: "default",
		PoolLabel:    LabelPool,
		ZoneLabels:   []string{LabelZone, "failure-domain.beta.kubernetes.io/zone"},
		MaxEvents:    200,
	}
}

// roleOf returns the role the labels or the name say, "" when none.
func (sel Selectors) roleOf(name string, labelSets ...map[string]string) string {
	for _, key := range sel.RoleLabels {
		for _, ls := range labelSets {
			if v, ok := ls[key]; ok {
				if r, ok := sel.RoleValues[strings.ToLower(v)]; ok {
					return r
				}
			}
		}
	}
	lname := strings.ToLower(name)
	var tokens []string
	for _, h := range sel.NameHints {
		if !h.WholeToken {
			if strings.Contains(lname, h.Token) {
				return h.Role
			}
			continue
		}
		if tokens == nil {
			tokens = strings.FieldsFunc(lname, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
		}
		for _, t := range tokens {
			if t == h.Token {
				return h.Role
			}
		}
	}
	return ""
}

func (sel Selectors) groupOf(labelSets ...map[string]string) string {
	for _, key := range sel.GroupLabels {
		for _, ls := range labelSets {
			if v := ls[key]; v != "" {
				return v
			}
		}
	}
	if sel.DefaultGroup == "" {
		return "default"
	}
	return sel.DefaultGroup
}

func (sel Selectors) zoneOf(labels map[string]string) string {
	for _, k := range sel.ZoneLabels {
		if z := labels[k]; z != "" {
			return z
		}
	}
	return ""
}

// ZoneOf is the zone a node's labels name ("" when none).
func (sel Selectors) ZoneOf(labels map[string]string) string { return sel.zoneOf(labels) }
