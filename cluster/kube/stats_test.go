package kube

import "testing"

func TestIsCollection(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/v1/pods":                                      true,
		"/api/v1/namespaces/apim/pods":                      true,
		"/api/v1/namespaces/apim/pods/traffic-1":            false,
		"/api/v1/namespaces/apim/pods/traffic-1/log":        false,
		"/apis/apps/v1/namespaces/apim/deployments":         true,
		"/apis/apps/v1/namespaces/apim/deployments/traffic": false,
		"/api/v1/nodes":                                     true,
		"/api/v1/nodes/n1":                                  false,
		"/version":                                          false,
		"/readyz":                                           false,
	} {
		if got := isCollection(path); got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}
