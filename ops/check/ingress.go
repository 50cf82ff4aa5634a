package check

import (
	"fmt"
	"strings"

	"github.com/apimctl/apimctl/ops/model"
)

var expectedHosts = []string{"anm.", "api-manager.", "api."}

func hostCovered(host string, tls []string) bool {
	for _, t := range tls {
		if t == host {
			return true
		}
		if strings.HasPrefix(t, "*.") {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i:] == t[1:] {
				return true
			}
		}
	}
	return false
}

func tlsBelowMin(v string) bool {
	switch strings.ToLower(v) {
	case "sslv2", "sslv3", "tlsv1", "tlsv1.0", "tlsv1.1":
		return true
	}
	return false
}

func (c *checker) ingress() {
	ings := c.s.Topology.Ingress
	if len(ings) == 0 {
		c.add(ruleIngMissing, "namespace "+c.ns, "no Ingress in the namespace: anm., api-manager. and api. are not "+
			"exposed through a TLS-terminating ingress controller", "kubectl apply -k deploy/base (ingress.yaml), "+
			"with the hosts of your domain and a TLS Secret")
		return
	}
	var all []string
	for _, ing := range ings {
		subject := "ingress/" + ing.Name
		all = append(all, ing.Hosts...)
		for _, h := range ing.Hosts {
			if h == "" {
				c.add(ruleIngTLS, subject, fmt.Sprintf("%s has a rule without host: it answers any name, and TLS "+
					"cannot cover it (the reference routes by DNS name)", subject), "set spec.rules[].host to "+
					"anm.<domain>, api-manager.<domain> or api.<domain>, each listed in spec.tls[].hosts")
				continue
			}
			if !hostCovered(h, ing.TLSHosts) {
				c.add(ruleIngTLS, subject, fmt.Sprintf("host %s of %s has no TLS entry: it is served in clear text "+
					"(the reference terminates TLS at the ingress)", h, subject), c.kubectl("patch ingress %s "+
					"--type=json -p '[{\"op\":\"add\",\"path\":\"/spec/tls/-\",\"value\":{\"hosts\":[\"%s\"],"+
					"\"secretName\":\"<tls-secret>\"}}]'", ing.Name, h)+" (use \"add\" on /spec/tls with a list "+
					"if spec.tls is empty)")
			}
		}
		if len(ing.TLSHosts) == 0 {
			continue
		}
		fix := c.kubectl("annotate ingress %s %s='TLSv1.2 TLSv1.3' --overwrite", ing.Name, model.NginxSSLProtocolsAnnotation)
		if strings.Contains(ing.Class, "azure") || strings.Contains(ing.Class, "appgw") ||
			strings.Contains(ing.Class, "application-gateway") {
			fix = c.kubectl("annotate ingress %s %s=AppGwSslPolicy20220101S --overwrite", ing.Name, model.AppGwSSLPolicyAnnotation)
		}
		switch {
		case ing.MinTLS == "":
			c.add(ruleIngTLSUnset, subject, fmt.Sprintf("%s does not state its TLS protocols, so the controller's "+
				"default applies; the reference forces %s", subject, referenceMinTLS), fix)
		case tlsBelowMin(ing.MinTLS):
			c.add(ruleIngTLSOld, subject, fmt.Sprintf("%s allows %s; the reference allows %s at least", subject,
				ing.MinTLS, referenceMinTLS), fix)
		}
	}
	for _, prefix := range expectedHosts {
		found := false
		for _, h := range all {
			if strings.HasPrefix(h, prefix) {
				found = true
				break
			}
		}
		if !found {
			c.add(ruleIngHosts, "ingress", fmt.Sprintf("no Ingress host starts with %q (hosts: %s); the reference "+
				"exposes anm., api-manager. and api.", prefix, strings.Join(all, " ")),
				"add a rule for "+prefix+"<domain> to the Ingress and its DNS record (see deploy/base/ingress.yaml)")
		}
	}
}
