package check

import (
	"fmt"
	"strings"

	"github.com/apimctl/apimctl/ops/model"
)

func (c *checker) anm() {
	t := c.s.Topology
	if len(t.ANM) == 0 {
		c.add(ruleANMMissing, "namespace "+c.ns, "no Admin Node Manager workload found (no Deployment labelled "+
			model.LabelRole+"=anm, app.kubernetes.io/component=anm, or named *-anm); gateways' prechecks wait for ANM",
			"deploy it: kubectl apply -k deploy/base (anm.yaml), or label the existing one: "+
				c.kubectl("label deployment <name> %s=anm", model.LabelRole))
		return
	}
	var ready int32
	var names, reasons []string
	for _, w := range t.ANM {
		ready += w.Ready
		names = append(names, kindName(w))
		reasons = append(reasons, podProblems(w.Pods)...)
	}
	if ready == 0 {
		msg := fmt.Sprintf("%s: 0 pods ready; new gateway pods wait for ANM in their prechecks", strings.Join(names, ", "))
		if len(reasons) > 0 {
			msg += " (" + strings.Join(reasons, ", ") + ")"
		}
		c.add(ruleANMReady, names[0], msg, c.kubectl("describe %s", names[0])+" and "+
			c.kubectl("logs %s --tail=100", names[0])+"; ANM needs the metrics database (SQL-001)")
	}
}

func (c *checker) groups() {
	groups := c.s.Topology.Groups
	if len(groups) == 0 {
		c.add(ruleTrafficNone, "namespace "+c.ns, "no API gateway group found: no Deployment labelled "+model.LabelRole+
			"=traffic (or app.kubernetes.io/component=apitraffic, or named *traffic*)",
			"deploy the traffic gateways: kubectl apply -k deploy/base (traffic.yaml), or label yours: "+
				c.kubectl("label deployment <name> %s=traffic %s=<group>", model.LabelRole, model.LabelGroup))
		return
	}
	for _, g := range groups {
		if len(g.Traffic) == 0 {
			c.add(ruleTrafficNone, "group "+g.Name, fmt.Sprintf("group %s has an API Manager but no traffic gateways",
				g.Name), "deploy the group's traffic Deployment from the group image, labelled "+model.LabelRole+"=traffic "+
				model.LabelGroup+"="+g.Name)
			continue
		}
		for _, w := range g.Traffic {
			c.trafficReplicas(g, w)
		}
		c.hpa(g)
	}
}

func (c *checker) trafficReplicas(g model.GatewayGroup, w model.Workload) {
	subject := kindName(w)
	scaleFix := c.kubectl("scale %s --replicas=%d", subject, minTrafficReplicas)
	switch h := g.HPA; {
	case h != nil && h.Min < minTrafficReplicas:
		scaleFix = c.kubectl("patch hpa %s -p '{\"spec\":{\"minReplicas\":%d}}'", h.Name, minTrafficReplicas) +
			", then " + scaleFix
	case h != nil:
		scaleFix += " (hpa/" + h.Name + " restores minReplicas by itself only while it can read metrics: see HPA-004)"
	}
	if w.Desired < minTrafficReplicas {
		c.add(ruleTrafficSpec, subject, fmt.Sprintf("%s asks for %d replica(s); the reference runs at least %d "+
			"traffic gateways", subject, w.Desired, minTrafficReplicas), scaleFix)
	}
	if w.Ready < minTrafficReplicas {
		msg := fmt.Sprintf("%s has %d ready of %d desired; at least %d must serve traffic", subject, w.Ready,
			w.Desired, minTrafficReplicas)
		if p := podProblems(w.Pods); len(p) > 0 {
			msg += " (" + strings.Join(p, ", ") + ")"
		}
		fix := scaleFix
		if w.Desired >= minTrafficReplicas {
			fix = c.kubectl("get pods -l app=%s -o wide", w.Name) + " and " + c.kubectl("describe %s", subject) +
				" to see why pods are not ready"
		}
		c.add(ruleTrafficReady, subject, msg, fix)
	}
}

func (c *checker) hpa(g model.GatewayGroup) {
	target := g.Traffic[0]
	h := g.HPA
	if h == nil {
		c.add(ruleHPAMissing, kindName(target), fmt.Sprintf("no HorizontalPodAutoscaler targets %s (group %s)",
			kindName(target), g.Name), c.kubectl("autoscale deployment %s --cpu-percent=%d --min=%d --max=12",
			target.Name, hpaCPUTarget, minTrafficReplicas)+" (or apply deploy/base/hpa.yaml)")
		return
	}
	subject := "hpa/" + h.Name
	if h.CPUTargetPercent != hpaCPUTarget {
		now := "no CPU utilisation target"
		if h.CPUTargetPercent > 0 {
			now = fmt.Sprintf("a CPU target of %d %%", h.CPUTargetPercent)
		}
		c.add(ruleHPATarget, subject, fmt.Sprintf("%s has %s; the reference starts at %d %% average CPU utilisation",
			subject, now, hpaCPUTarget), c.kubectl("patch hpa %s --type=json -p '[{\"op\":\"replace\",\"path\":"+
			"\"/spec/metrics\",\"value\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":"+
			"{\"type\":\"Utilization\",\"averageUtilization\":%d}}}]}]'", h.Name, hpaCPUTarget))
	}
	if h.Min < minTrafficReplicas {
		c.add(ruleHPAMin, subject, fmt.Sprintf("%s minReplicas is %d; the reference keeps at least %d traffic gateways",
			subject, h.Min, minTrafficReplicas),
			c.kubectl("patch hpa %s -p '{\"spec\":{\"minReplicas\":%d}}'", h.Name, minTrafficReplicas))
	}
	for _, cond := range h.Conditions {
		if cond.Status != "False" {
			continue
		}
		switch cond.Type {
		case "ScalingActive":
			c.add(ruleHPAMetrics, subject, fmt.Sprintf("%s cannot scale on metrics (%s): %s; replicas stay at %d",
				subject, cond.Reason, cond.Message, h.Current), "check the metrics API: kubectl get apiservice "+
				"v1beta1.metrics.k8s.io and kubectl top pods -n "+c.ns+"; the traffic containers need a CPU request")
		case "AbleToScale":
			c.add(ruleHPAAble, subject, fmt.Sprintf("%s is not able to scale (%s): %s", subject, cond.Reason,
				cond.Message), c.kubectl("describe hpa %s", h.Name)+"; check that "+kindName(target)+
				" exists and its scale subresource answers: "+c.kubectl("get --raw /apis/apps/v1/namespaces/%s/"+
				"deployments/%s/scale", c.ns, target.Name))
		}
	}
	if h.Max > 0 && h.Current >= h.Max {
		c.add(ruleHPAAtMax, subject, fmt.Sprintf("%s runs %d replicas, its maximum (%d): no headroom left for more "+
			"traffic", subject, h.Current, h.Max), c.kubectl("patch hpa %s -p '{\"spec\":{\"maxReplicas\":%d}}'",
			h.Name, h.Max+3)+" (check that the node pool autoscaler can add nodes for them)")
	}
}

func (c *checker) apimWorkloads() []model.Workload {
	t := c.s.Topology
	out := append([]model.Workload(nil), t.ANM...)
	for _, g := range t.Groups {
		out = append(out, g.APIManager...)
		out = append(out, g.Traffic...)
	}
	return out
}

func kindName(w model.Workload) string { return strings.ToLower(w.Kind) + "/" + w.Name }

func (c *checker) workload(w model.Workload) {
	subject := kindName(w)
	container := "containers[0]"

	var missing []string
	for _, m := range []struct{ name, v string }{
		{"cpu request", w.CPURequest}, {"memory request", w.MemoryRequest},
		{"cpu limit", w.CPULimit}, {"memory limit", w.MemoryLimit},
	} {
		if m.v == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		c.add(ruleResources, subject, fmt.Sprintf("%s has no %s (requests cpu=%q memory=%q, limits cpu=%q memory=%q); "+
			"a JVM without limits can starve the node, and the HPA needs the CPU request", subject,
			strings.Join(missing, ", "), w.CPURequest, w.MemoryRequest, w.CPULimit, w.MemoryLimit),
			c.kubectl("set resources %s --requests=cpu=500m,memory=512Mi --limits=cpu=2,memory=2Gi", subject)+" (reference: 2 CPU / 2 GiB limits; size -Xmx below the memory limit)")
	}
	if !w.ReadinessProbe {
		c.add(ruleReadiness, subject, fmt.Sprintf("%s has no readinessProbe: pods get traffic before they can serve "+
			"it and rollouts cannot tell a bad image (the reference requires probes)", subject),
			"set spec.template.spec."+container+".readinessProbe, e.g. httpGet path /healthcheck on the traffic/UI port "+
				"(see deploy/base/traffic.yaml)")
	}
	if !w.LivenessProbe {
		c.add(ruleLiveness, subject, fmt.Sprintf("%s has no livenessProbe: a hung JVM is never restarted (the "+
			"reference requires probes)", subject), "set spec.template.spec."+container+".livenessProbe, e.g. "+
			"httpGet path /healthcheck/live on the admin port (see deploy/base/traffic.yaml)")
	}
	antiFix := "add spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution " +
		"with topologyKey kubernetes.io/hostname and a labelSelector matching app=" + w.Name + " (see deploy/base/traffic.yaml)"
	if !w.AntiAffinityHost {
		if w.Role == model.RoleTraffic {
			c.add(ruleAntiHostTraf, subject, fmt.Sprintf("%s has no pod anti-affinity on kubernetes.io/hostname: "+
				"replicas may all land on one node, which then takes the group down (reference: Required)", subject), antiFix)
		} else if w.Desired >= 2 {
			c.add(ruleAntiHostOther, subject, fmt.Sprintf("%s runs %d replicas without pod anti-affinity on "+
				"kubernetes.io/hostname: they may share a node", subject, w.Desired), antiFix)
		}
	}
	if w.Role == model.RoleTraffic && !w.AntiAffinityZone {
		c.add(ruleAntiZone, subject, fmt.Sprintf("%s does not prefer spreading over zones "+
			"(topology.kubernetes.io/zone); the reference spreads over three availability zones", subject),
			"add a preferred podAntiAffinity term (weight 50) with topologyKey topology.kubernetes.io/zone, as in "+
				"deploy/base/traffic.yaml")
	}
	c.spread(w, subject)
	c.pool(w, subject)
	if w.Kind == "Deployment" && (w.Strategy != "RollingUpdate" || w.MaxSurge != "1" || !isZero(w.MaxUnavailable)) {
		c.add(ruleStrategy, subject, fmt.Sprintf("%s rolls with strategy %s maxSurge %q maxUnavailable %q; the "+
			"reference uses RollingUpdate with maxSurge 1 and maxUnavailable 0 so capacity never drops", subject,
			w.Strategy, w.MaxSurge, w.MaxUnavailable), c.kubectl("patch %s -p '{\"spec\":{\"strategy\":{\"type\":"+
			"\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":0}}}}'", subject))
	}
	if w.Role == model.RoleTraffic {
		c.surgeRoom(w, subject)
	}
	c.pods(w, subject)
	if w.Paused {
		c.add(rulePaused, subject, fmt.Sprintf("the rollout of %s is paused at revision %s (%d of %d updated)",
			subject, w.Revision, w.Updated, w.Desired), c.kubectl("rollout resume %s", subject)+
			" (or apimctl rollout resume)")
	}
	for _, cond := range w.Conditions {
		if cond.Type == "Progressing" && cond.Status == "False" && cond.Reason == "ProgressDeadlineExceeded" {
			c.add(ruleStuck, subject, fmt.Sprintf("the rollout of %s exceeded its progress deadline: %s", subject,
				cond.Message), c.kubectl("rollout status %s", subject)+" shows what waits; roll back with "+
				c.kubectl("rollout undo %s", subject)+" if the new pods cannot become ready")
		}
	}
}

func isZero(v string) bool { return v == "0" || v == "0%" }

// failingReasons are waiting reasons that will not resolve by themselves.
var failingReasons = map[string]bool{
	"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
	"Init:CrashLoopBackOff": true, "Init:ImagePullBackOff": true, "Init:ErrImagePull": true,
}

func (c *checker) pods(w model.Workload, subject string) {
	var failing, notReady, restarting []string
	for _, p := range w.Pods {
		if p.Terminating {
			continue
		}
		switch {
		case failingReasons[p.Reason]:
			failing = append(failing, p.Name+" "+p.Reason)
		case !p.Ready && p.Phase != "Succeeded":
			starting := p.Reason == "" || p.Reason == "ContainerCreating" || p.Reason == "PodInitializing"
			if starting && !p.Created.IsZero() && c.s.Taken.Sub(p.Created) < startingGrace {
				break
			}
			desc := p.Name
			if p.Reason != "" {
				desc += " " + p.Reason
			} else {
				desc += " " + p.Phase
			}
			notReady = append(notReady, desc)
		}
		if p.Restarts >= restartThreshold {
			restarting = append(restarting, fmt.Sprintf("%s (%d restarts)", p.Name, p.Restarts))
		}
	}
	if len(failing) > 0 {
		c.add(rulePodsFailing, subject, fmt.Sprintf("%s: %s", subject, strings.Join(failing, ", ")),
			c.kubectl("logs %s --previous", podRef(failing[0]))+" for a crash, "+c.kubectl("describe pod %s",
				podRef(failing[0]))+" for an image pull (check the tag and the registry Secret); "+
				"roll back with "+c.kubectl("rollout undo %s", subject)+" if a new image caused it")
	}
	if len(notReady) > 0 {
		fix := c.kubectl("describe pod %s", podRef(notReady[0])) + " (events at the bottom)"
		if strings.Contains(strings.Join(notReady, " "), "Unschedulable") {
			fix += "; Unschedulable means no node fits: see WKL-012 and kubectl describe nodes"
		}
		c.add(rulePodsNotReady, subject, fmt.Sprintf("%s: %d pod(s) not ready: %s", subject, len(notReady),
			strings.Join(notReady, ", ")), fix)
	}
	if len(restarting) > 0 {
		c.add(ruleRestarts, subject, fmt.Sprintf("%s: %s", subject, strings.Join(restarting, ", ")),
			c.kubectl("logs %s --previous", podRef(restarting[0]))+" and "+c.kubectl("describe pod %s",
				podRef(restarting[0]))+" (OOMKilled → raise the memory limit or lower -Xmx; probe failures → "+
				"check /healthcheck)")
	}
}

func podRef(desc string) string {
	if i := strings.IndexByte(desc, ' '); i > 0 {
		return desc[:i]
	}
	return desc
}

// podProblems lists pods that are not ready, with their reason.
func podProblems(pods []model.PodState) []string {
	var out []string
	for _, p := range pods {
		if !p.Ready && !p.Terminating {
			r := p.Reason
			if r == "" {
				r = p.Phase
			}
			out = append(out, p.Name+" "+r)
		}
	}
	return out
}
