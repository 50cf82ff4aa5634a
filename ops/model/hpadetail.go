package model

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

// WorkloadOf is a Deployment as the console shows it (without its pods, role and group).
func WorkloadOf(d *appsv1.Deployment) Workload { return deploymentWorkload(d) }

// HPAStateOf is an HPA as the console shows it (without its events).
func HPAStateOf(h *autoscalingv2.HorizontalPodAutoscaler) HPAState { return hpaState(h) }

// rescaleRe is the HPA controller's SuccessfulRescale message.
var rescaleRe = regexp.MustCompile(`^New size: (\d+); reason: (.+)$`)

// HPADecisions are the HPA's scaling decisions read from its SuccessfulRescale events, newest
// first. From is the size before (the previous decision's) when the events show it. The
// events do not carry the metric's value, but the decision bounds it: the HPA wants
// ceil(replicas × value / target) replicas and ignores a ratio within 10 % of 1, so a
// scale-up from f to t means value > target × max((t−1)/f, 1.1), and a scale-down value ≤
// target × min(t/f, 0.9) — bounds that hold whatever its limits and policies cut. Value says
// so when the target is known (targetPercent > 0, a CPU utilisation target).
func HPADecisions(events []EventInfo, targetPercent int32) []HPADecision {
	var out []HPADecision
	for _, e := range events {
		if e.Reason != "SuccessfulRescale" {
			continue
		}
		m := rescaleRe.FindStringSubmatch(strings.TrimSpace(e.Message))
		if m == nil {
			continue
		}
		to, err := strconv.ParseInt(m[1], 10, 32)
		if err != nil {
			continue
		}
		out = append(out, HPADecision{Time: e.Time, To: int32(to), Reason: m[2], Metric: decisionMetric(m[2], targetPercent), Count: e.Count})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	for i := range out {
		if i > 0 {
			out[i].From = out[i-1].To
		}
		out[i].Value = impliedValue(out[i], targetPercent)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// decisionMetric names the metric of a rescale reason: "cpu resource utilization (percentage
// of request) above target" is cpu; "All metrics below target" is cpu when CPU is the HPA's
// target.
func decisionMetric(reason string, targetPercent int32) string {
	if name, ok := strings.CutSuffix(reason, " above target"); ok {
		return strings.Fields(name + " ")[0]
	}
	if strings.EqualFold(reason, "All metrics below target") && targetPercent > 0 {
		return "cpu"
	}
	return ""
}

func impliedValue(d HPADecision, target int32) string {
	if d.Metric != "cpu" || target <= 0 || d.From <= 0 || d.From == d.To {
		return ""
	}
	t, f, to := float64(target), float64(d.From), float64(d.To)
	if d.To > d.From {
		return fmt.Sprintf("> %d%%", int(math.Floor(t*math.Max((to-1)/f, 1.1))))
	}
	return fmt.Sprintf("≤ %d%%", int(math.Floor(t*math.Min(to/f, 0.9))))
}

// ScaleLimit says what stops the Deployment growing under its HPA ("" when nothing does), the
// first that applies of: no HPA, the HPA unable to scale or without metrics, at its maximum,
// pods the scheduler cannot place (their messages in unschedulable), no CPU measurement yet,
// and — when nodes are given — no node of the Deployment's pool with room for one more pod.
func ScaleLimit(h *HPAState, wl *Workload, unschedulable []string, nodes []NodeState) string {
	if h == nil {
		if wl != nil {
			return fmt.Sprintf("no HPA scales it: the replica count stays at %d", wl.Desired)
		}
		return "no HPA scales it"
	}
	for _, c := range h.Conditions {
		if c.Status != "False" {
			continue
		}
		switch c.Type {
		case "AbleToScale":
			return "cannot scale: " + withMessage(orText(c.Reason, "AbleToScale False"), c.Message)
		case "ScalingActive":
			return "no metrics: " + withMessage(orText(c.Reason, "ScalingActive False"), c.Message)
		}
	}
	if h.Max > 0 && h.Current >= h.Max {
		s := fmt.Sprintf("at its maximum of %d replicas", h.Max)
		for _, c := range h.Conditions {
			if c.Type == "ScalingLimited" && c.Status == "True" && c.Reason == "TooManyReplicas" {
				s += ": it wants more"
			}
		}
		return s
	}
	if n := len(unschedulable); n > 0 {
		what := "pod"
		if n > 1 {
			what = "pods"
		}
		return fmt.Sprintf("%d %s unschedulable: %s", n, what, orText(firstLine(unschedulable[0]), "no node fits"))
	}
	if h.CPUTargetPercent > 0 && h.CPUCurrentPercent == nil {
		return "no CPU measurement yet: the HPA cannot tell whether to scale"
	}
	if wl != nil && len(nodes) > 0 {
		if why := noRoom(wl, nodes); why != "" {
			return why
		}
	}
	return ""
}

// noRoom says the next pod would not fit: no Ready node of the workload's pool has its CPU
// and memory requests free.
func noRoom(wl *Workload, nodes []NodeState) string {
	cpu, mem := quantityMillis(wl.CPURequest), quantityBytes(wl.MemoryRequest)
	if cpu == 0 && mem == 0 {
		return ""
	}
	best, bestNode, pool := int64(-1), "", 0
	for _, n := range nodes {
		if !n.Ready || (wl.NodePool != "" && n.Pool != wl.NodePool) {
			continue
		}
		pool++
		freeCPU, freeMem := n.CPUAllocatable-n.CPURequested, n.MemoryAllocatable-n.MemoryRequested
		if freeCPU >= cpu && freeMem >= mem {
			return ""
		}
		if freeCPU > best {
			best, bestNode = freeCPU, n.Name
		}
	}
	where := "no Ready node"
	if wl.NodePool != "" {
		where = "no Ready " + wl.NodePool + " node"
	}
	if pool == 0 {
		return "the next pod has nowhere to go: " + where
	}
	return fmt.Sprintf("the next pod would not fit: %s has %s CPU and %s memory free (most CPU free: %dm on %s)",
		where, orText(wl.CPURequest, "0"), orText(wl.MemoryRequest, "0"), best, bestNode)
}

func quantityMillis(s string) int64 {
	if q, err := resource.ParseQuantity(s); err == nil {
		return q.MilliValue()
	}
	return 0
}

func quantityBytes(s string) int64 {
	if q, err := resource.ParseQuantity(s); err == nil {
		return q.Value()
	}
	return 0
}
