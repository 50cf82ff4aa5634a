package model

import (
	"testing"
	"time"
)

func TestHPADecisions(t *testing.T) {
	ev := func(min int, reason, msg string) EventInfo {
		return EventInfo{Time: t0.Add(time.Duration(min) * time.Minute), Type: "Normal", Reason: reason, Message: msg, Object: "HorizontalPodAutoscaler/traffic", Count: 1}
	}
	events := []EventInfo{
		ev(10, "SuccessfulRescale", "New size: 3; reason: All metrics below target"),
		ev(1, "SuccessfulRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above target"),
		ev(2, "FailedGetResourceMetric", "failed to get cpu utilization: no metrics returned"),
		ev(3, "SuccessfulRescale", "New size: 8; reason: cpu resource utilization (percentage of request) above target"),
		ev(4, "SuccessfulRescale", "New size: 6; reason: memory resource utilization (percentage of request) above target"),
		ev(5, "SuccessfulRescale", "garbled message"),
	}
	got := HPADecisions(events, 75)
	want := []HPADecision{
		// 6 → 3: value ≤ 75 × min(3/6, 0.9) = 37.5
		{To: 3, From: 6, Metric: "cpu", Value: "≤ 37%"},
		// memory: no bound from a CPU target
		{To: 6, From: 8, Metric: "memory"},
		// 4 → 8: value > 75 × max(7/4, 1.1) = 131.25
		{To: 8, From: 4, Metric: "cpu", Value: "> 131%"},
		// the first: the size before is unknown
		{To: 4, Metric: "cpu"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d decisions, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.To != w.To || g.From != w.From || g.Metric != w.Metric || g.Value != w.Value {
			t.Errorf("decision %d: got %d→%d %s %q, want %d→%d %s %q", i, g.From, g.To, g.Metric, g.Value, w.From, w.To, w.Metric, w.Value)
		}
	}
	if !got[0].Time.Equal(t0.Add(10*time.Minute)) || got[3].Reason != "cpu resource utilization (percentage of request) above target" {
		t.Errorf("time or reason: %+v", got[0])
	}
	// A small step up is bounded by the HPA's 10 % tolerance: 3 → 4 at 75 % means > 82 %.
	small := HPADecisions([]EventInfo{ev(1, "SuccessfulRescale", "New size: 3; reason: cpu resource utilization (percentage of request) above target"),
		ev(2, "SuccessfulRescale", "New size: 4; reason: cpu resource utilization (percentage of request) above target")}, 75)
	if small[0].Value != "> 82%" {
		t.Errorf("3→4 at 75%%: %q, want > 82%%", small[0].Value)
	}
	if d := HPADecisions(events, 0); d[2].Value != "" {
		t.Errorf("no target, yet a value: %q", d[2].Value)
	}
}

func TestScaleLimit(t *testing.T) {
	cpu := int32(60)
	hpa := func(cur int32, conds ...Condition) *HPAState {
		return &HPAState{Name: "traffic", Target: "traffic", Min: 3, Max: 12, Current: cur, Desired: cur, CPUTargetPercent: 75, CPUCurrentPercent: &cpu, Conditions: conds}
	}
	wl := &Workload{Name: "traffic", Desired: 3, NodePool: "apimpool", CPURequest: "500m", MemoryRequest: "512Mi"}
	roomy := []NodeState{{Name: "apimpool-1", Pool: "apimpool", Ready: true, CPUAllocatable: 4000, CPURequested: 3800, MemoryAllocatable: 14 << 30},
		{Name: "apimpool-2", Pool: "apimpool", Ready: true, CPUAllocatable: 4000, CPURequested: 1000, MemoryAllocatable: 14 << 30}}
	full := []NodeState{{Name: "apimpool-1", Pool: "apimpool", Ready: true, CPUAllocatable: 4000, CPURequested: 3800, MemoryAllocatable: 14 << 30},
		{Name: "apimpool-2", Pool: "apimpool", Ready: false, CPUAllocatable: 4000, MemoryAllocatable: 14 << 30},
		{Name: "infrapool-1", Pool: "infrapool", Ready: true, CPUAllocatable: 2000, MemoryAllocatable: 8 << 30}}
	noCPU := hpa(3)
	noCPU.CPUCurrentPercent = nil
	cases := []struct {
		name  string
		h     *HPAState
		unsch []string
		nodes []NodeState
		want  string
	}{
		{"no HPA", nil, nil, nil, "no HPA scales it: the replica count stays at 3"},
		{"metrics fail", hpa(3, Condition{Type: "ScalingActive", Status: "False", Reason: "FailedGetResourceMetric", Message: "the HPA was unable to compute the replica count: failed to get cpu utilization"}), nil, nil,
			"no metrics: FailedGetResourceMetric — the HPA was unable to compute the replica count: failed to get cpu utilization"},
		{"cannot scale", hpa(3, Condition{Type: "AbleToScale", Status: "False", Reason: "FailedGetScale"}), nil, nil, "cannot scale: FailedGetScale"},
		{"at max, wanting more", hpa(12, Condition{Type: "ScalingLimited", Status: "True", Reason: "TooManyReplicas"}), nil, nil, "at its maximum of 12 replicas: it wants more"},
		{"at max", hpa(12), nil, nil, "at its maximum of 12 replicas"},
		{"unschedulable", hpa(5), []string{"0/4 nodes are available: 3 Insufficient cpu.", "same"}, nil, "2 pods unschedulable: 0/4 nodes are available: 3 Insufficient cpu."},
		{"no measurement yet", noCPU, nil, nil, "no CPU measurement yet: the HPA cannot tell whether to scale"},
		{"room on a node", hpa(3), nil, roomy, ""},
		{"no room", hpa(3), nil, full, "the next pod would not fit: no Ready apimpool node has 500m CPU and 512Mi memory free (most CPU free: 200m on apimpool-1)"},
		{"no pool node at all", hpa(3), nil, full[2:], "the next pod has nowhere to go: no Ready apimpool node"},
		{"at min is no limit to growth", hpa(3, Condition{Type: "ScalingLimited", Status: "True", Reason: "TooFewReplicas"}), nil, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ScaleLimit(tc.h, wl, tc.unsch, tc.nodes); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
