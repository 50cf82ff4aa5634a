package rollout

import (
	"strings"
	"testing"

	"github.com/apimctl/apimctl/ops/model"
)

func TestFindWorkloadAndPlan(t *testing.T) {
	traffic := model.Workload{Kind: "Deployment", Name: "traffic", Namespace: "apim", Role: model.RoleTraffic, Group: "default", Image: "r/apim/gateway:1", Desired: 3, Revision: "4"}
	s := model.Snapshot{Topology: model.Topology{
		ANM:    []model.Workload{{Kind: "Deployment", Name: "anm", Role: model.RoleANM, Image: "r/apim/anm:1"}},
		Groups: []model.GatewayGroup{{Name: "default", Traffic: []model.Workload{traffic}}, {Name: "two", Traffic: []model.Workload{traffic, traffic}}},
	}}
	if w, err := model.FindWorkload(s.Topology, model.RoleTraffic, "default"); err != nil || w.Name != "traffic" {
		t.Errorf("traffic/default: %v %v", w, err)
	}
	if w, err := model.FindWorkload(s.Topology, model.RoleANM, "-"); err != nil || w.Name != "anm" {
		t.Errorf("anm: %v %v", w, err)
	}
	for _, c := range []struct{ role, group, err string }{
		{model.RoleTraffic, "nope", `no gateway group "nope" (groups: default, two)`},
		{model.RoleAPIManager, "default", "no apimgr Deployment"},
		{model.RoleTraffic, "two", "2 traffic Deployments"},
		{"db", "default", "unknown role"},
	} {
		if _, err := model.FindWorkload(s.Topology, c.role, c.group); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s/%s: %v, want %q", c.role, c.group, err, c.err)
		}
	}

	p, err := PlanRollout(s, model.RoleTraffic, "default", "2")
	if err != nil || p.FromImage != "r/apim/gateway:1" || p.ToImage != "r/apim/gateway:2" || len(p.Blockers) != 0 {
		t.Fatalf("plan: %+v %v", p, err)
	}
	// The HPA scaling up (new pods of the current template, not yet available) is no blocker.
	up := s
	up.Topology.Groups = []model.GatewayGroup{{Name: "default", Traffic: []model.Workload{traffic}}}
	w := &up.Topology.Groups[0].Traffic[0]
	w.Desired, w.Current, w.Updated, w.Available, w.RolloutInProgress = 6, 6, 6, 4, true
	if p, _ := PlanRollout(up, model.RoleTraffic, "default", "2"); len(p.Blockers) != 0 {
		t.Errorf("a scale-up blocks a rollout: %+v", p.Blockers)
	}
	// Error-level findings, a rollout in progress and a paused Deployment block; warnings not.
	s.Findings = []model.Finding{{ID: "CASS-001", Severity: model.SeverityError}, {ID: "HPA-004", Severity: model.SeverityWarning}}
	s.Topology.Groups[0].Traffic[0].RolloutInProgress = true
	s.Topology.Groups[0].Traffic[0].Current, s.Topology.Groups[0].Traffic[0].Updated = 4, 1
	s.Topology.Groups[0].Traffic[0].Paused = true
	p, _ = PlanRollout(s, model.RoleTraffic, "default", "2")
	var ids []string
	for _, b := range p.Blockers {
		ids = append(ids, b.ID+":"+b.Message)
	}
	if len(p.Blockers) != 3 || p.Blockers[0].ID != "CASS-001" || !strings.Contains(strings.Join(ids, " "), "in progress") || !strings.Contains(strings.Join(ids, " "), "paused") {
		t.Errorf("blockers %v", ids)
	}
}

func TestChooseUndo(t *testing.T) {
	hist := []Revision{{Revision: 1, Image: "a:1"}, {Revision: 3, Image: "a:3"}, {Revision: 5, Image: "a:5", Current: true}, {Revision: 6, Image: "a:6"}}
	if p, err := chooseUndo("traffic", hist, 0); err != nil || p.ToRevision != 3 || p.FromRevision != 5 || p.ToImage != "a:3" {
		t.Errorf("previous: %+v %v", p, err)
	}
	if p, err := chooseUndo("traffic", hist, 1); err != nil || p.ToRevision != 1 {
		t.Errorf("to 1: %+v %v", p, err)
	}
	for to, want := range map[int64]string{2: "no revision 2", 5: "is the current one"} {
		if _, err := chooseUndo("traffic", hist, to); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("to %d: %v, want %q", to, err, want)
		}
	}
	if _, err := chooseUndo("traffic", hist[:1:1], 0); err != nil {
		// a single revision that is not current: nothing is current, so nothing is earlier
		if !strings.Contains(err.Error(), "no earlier revision") {
			t.Errorf("single: %v", err)
		}
	}
	if _, err := chooseUndo("traffic", []Revision{{Revision: 1, Current: true}}, 0); err == nil || !strings.Contains(err.Error(), "no earlier revision") {
		t.Errorf("only the current revision: %v", err)
	}
}
