package model

import (
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// IngressStateOf is an Ingress as the checks read it: hosts, TLS, backends, minimum protocol.
func IngressStateOf(ing *networkingv1.Ingress) IngressState {
	st := IngressState{Name: ing.Name, Backends: map[string]string{}}
	if ing.Spec.IngressClassName != nil {
		st.Class = *ing.Spec.IngressClassName
	} else {
		st.Class = ing.Annotations["kubernetes.io/ingress.class"]
	}
	seen := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		if !seen[r.Host] {
			seen[r.Host] = true
			st.Hosts = append(st.Hosts, r.Host)
		}
		if r.HTTP == nil || len(r.HTTP.Paths) == 0 {
			continue
		}
		if _, ok := st.Backends[r.Host]; ok {
			continue
		}
		if svc := r.HTTP.Paths[0].Backend.Service; svc != nil {
			port := svc.Port.Name
			if port == "" {
				port = itoa(svc.Port.Number)
			}
			st.Backends[r.Host] = svc.Name + ":" + port
		}
	}
	seenTLS := map[string]bool{}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			if !seenTLS[h] {
				seenTLS[h] = true
				st.TLSHosts = append(st.TLSHosts, h)
			}
		}
	}
	st.MinTLS = MinTLSOf(ing.Annotations)
	return st
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// tlsOrder ranks protocol names as ingress controllers spell them.
var tlsOrder = map[string]int{"sslv2": 1, "sslv3": 2, "tlsv1": 3, "tlsv1.0": 3, "tlsv1.1": 4, "tlsv1.2": 5, "tlsv1.3": 6}

var tlsCanonical = map[int]string{1: "SSLv2", 2: "SSLv3", 3: "TLSv1", 4: "TLSv1.1", 5: "TLSv1.2", 6: "TLSv1.3"}

// appGwPolicyMin is the lowest protocol of Azure Application Gateway's predefined policies.
var appGwPolicyMin = map[string]string{
	"appgwsslpolicy20150501":  "TLSv1",
	"appgwsslpolicy20170401":  "TLSv1.1",
	"appgwsslpolicy20170401s": "TLSv1.2",
	"appgwsslpolicy20220101":  "TLSv1.2",
	"appgwsslpolicy20220101s": "TLSv1.2",
}

// MinTLSOf returns the lowest protocol the annotations allow, "" when they do not say.
func MinTLSOf(ann map[string]string) string {
	if v := ann[NginxSSLProtocolsAnnotation]; v != "" {
		low := 0
		for _, p := range strings.Fields(v) {
			if r, ok := tlsOrder[strings.ToLower(p)]; ok && (low == 0 || r < low) {
				low = r
			}
		}
		if low > 0 {
			return tlsCanonical[low]
		}
	}
	if v := ann[AppGwSSLPolicyAnnotation]; v != "" {
		return appGwPolicyMin[strings.ToLower(v)]
	}
	return ""
}
