package check

import (
	"fmt"

	"github.com/apimctl/apimctl/ops/model"
	"k8s.io/apimachinery/pkg/api/resource"
)

// spread warns when the running pods of a replicated workload share one node or one zone.
func (c *checker) spread(w model.Workload, subject string) {
	nodes, zones := map[string]bool{}, map[string]bool{}
	running, zoned := 0, 0
	for _, p := range w.Pods {
		if p.Terminating || p.Node == "" || p.Phase != "Running" {
			continue
		}
		running++
		nodes[p.Node] = true
		if p.Zone != "" {
			zoned++
			zones[p.Zone] = true
		}
	}
	if running >= 2 && len(nodes) == 1 {
		var node string
		for n := range nodes {
			node = n
		}
		c.add(ruleSpreadNodes, subject, fmt.Sprintf("all %d running pods of %s are on node %s: losing it stops the "+
			"workload", running, subject, node), "make sure the pool has at least as many Ready nodes as replicas and "+
			"that anti-affinity on kubernetes.io/hostname is set; then "+c.kubectl("rollout restart %s", subject))
	}
	if zoned >= 2 && len(zones) == 1 {
		clusterZones := map[string]bool{}
		for _, n := range c.s.Nodes {
			if n.Ready && n.Zone != "" && (w.NodePool == "" || n.Pool == w.NodePool) {
				clusterZones[n.Zone] = true
			}
		}
		var zone string
		for z := range zones {
			zone = z
		}
		fix := "add a preferred podAntiAffinity term on topology.kubernetes.io/zone, then " +
			c.kubectl("rollout restart %s", subject)
		if len(clusterZones) < 2 {
			fix = "the pool's Ready nodes are all in zone " + zone + ": spread the node pool over 3 availability zones " +
				"(reference), then " + c.kubectl("rollout restart %s", subject)
		}
		c.add(ruleSpreadZones, subject, fmt.Sprintf("all %d running pods of %s are in zone %s: a zone outage stops "+
			"the workload", zoned, subject, zone), fix)
	}
}

func (c *checker) pool(w model.Workload, subject string) {
	if w.NodePool != "" || !c.poolsLabelled() {
		return
	}
	pool := referencePool
	if !c.poolExists(pool) {
		pool = "<pool>"
	}
	c.add(rulePoolPin, subject, fmt.Sprintf("%s is not pinned to a node pool: its pods may land on infrastructure "+
		"nodes (reference: APIM components on %s)", subject, referencePool),
		"add spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution with "+
			"matchExpressions key agentpool operator In values ["+pool+"] (see deploy/base/traffic.yaml)")
}

func (c *checker) poolsLabelled() bool {
	for _, n := range c.s.Nodes {
		if n.Pool != "" {
			return true
		}
	}
	return false
}

func (c *checker) poolExists(pool string) bool {
	for _, n := range c.s.Nodes {
		if n.Pool == pool {
			return true
		}
	}
	return false
}

// poolLabels reports once that no node carries a pool label (nothing to pin to).
func (c *checker) poolLabels() {
	if len(c.s.Nodes) == 0 || c.poolsLabelled() {
		return
	}
	c.add(rulePoolNone, "nodes", fmt.Sprintf("none of the %d nodes has an agentpool label, so APIM workloads cannot "+
		"be kept off infrastructure nodes", len(c.s.Nodes)), "label the APIM nodes: kubectl label node <node> "+
		"agentpool="+referencePool+" (AKS sets it per node pool)")
}

// surgeRoom warns when no Ready node of the workload's pool can take one more pod of it:
// with maxUnavailable 0 a rolling update then waits for a node.
func (c *checker) surgeRoom(w model.Workload, subject string) {
	if len(c.s.Nodes) == 0 {
		return // nodes not visible (RBAC): nothing to judge
	}
	cpu, cerr := parseMillis(w.CPURequest)
	mem, merr := parseBytes(w.MemoryRequest)
	if cerr != nil || merr != nil || (cpu == 0 && mem == 0) {
		return
	}
	var best string
	var bestCPU, bestMem int64 = -1, -1
	candidates := 0
	for _, n := range c.s.Nodes {
		if !n.Ready || (w.NodePool != "" && n.Pool != w.NodePool) {
			continue
		}
		candidates++
		freeCPU, freeMem := n.CPUAllocatable-n.CPURequested, n.MemoryAllocatable-n.MemoryRequested
		if freeCPU >= cpu && freeMem >= mem {
			return
		}
		if freeCPU > bestCPU {
			best, bestCPU, bestMem = n.Name, freeCPU, freeMem
		}
	}
	where := "any Ready node"
	if w.NodePool != "" {
		where = "Ready nodes of pool " + w.NodePool
	}
	msg := fmt.Sprintf("no room for one more %s pod (requests cpu %s, memory %s) on %s", subject, w.CPURequest,
		w.MemoryRequest, where)
	if candidates == 0 {
		msg = fmt.Sprintf("%s: there are no %s", msg, where)
	} else {
		msg += fmt.Sprintf(" (most free: %s with %dm cpu, %s memory)", best, bestCPU, formatBytes(bestMem))
	}
	msg += ": a rolling update will wait for a node"
	c.add(ruleSurgeRoom, subject, msg, "let the cluster autoscaler add a node to the pool (az aks nodepool update "+
		"--enable-cluster-autoscaler --max-count N), add one by hand, or free requests on the pool's nodes; "+
		"kubectl describe nodes shows Allocated resources")
}

func parseMillis(s string) (int64, error) { return parseQuantity(s, (*resource.Quantity).MilliValue) }
func parseBytes(s string) (int64, error)  { return parseQuantity(s, (*resource.Quantity).Value) }

// parseQuantity reads a Kubernetes quantity ("" is 0) as value gives it.
func parseQuantity(s string, value func(*resource.Quantity) int64) (int64, error) {
	if s == "" {
		return 0, nil
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, err
	}
	return value(&q), nil
}

func formatBytes(b int64) string {
	return resource.NewQuantity(b, resource.BinarySI).String()
}

func (c *checker) nodes() {
	pools := map[string]bool{}
	hosts := map[string]bool{}
	pinned := false
	for _, w := range c.apimWorkloads() {
		if w.NodePool != "" {
			pools[w.NodePool] = true
			pinned = true
		}
		for _, p := range w.Pods {
			hosts[p.Node] = true
		}
	}
	for _, n := range c.s.Nodes {
		if n.Ready {
			continue
		}
		if pinned && !pools[n.Pool] && !hosts[n.Name] {
			continue // not an APIM node
		}
		c.add(ruleNodeReady, "node/"+n.Name, fmt.Sprintf("node %s (pool %q, zone %q) is not Ready; its %d pods are "+
			"evicted after the toleration timeout", n.Name, n.Pool, n.Zone, n.Pods), "kubectl describe node "+n.Name+
			" (Conditions: kubelet, disk, memory pressure); on AKS: az aks nodepool show / restart the VM, or "+
			"kubectl drain "+n.Name+" --ignore-daemonsets --delete-emptydir-data to move its pods now")
	}
}
