package check

import (
	"testing"

	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/model/modeltest"
)

// TestRemedies: the findings whose fix is an action offer it, for the Deployment they name;
// the others offer nothing.
func TestRemedies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*model.Snapshot)
		id     string
		want   model.Remedy
	}{
		{"paused traffic is resumed", func(s *model.Snapshot) { traffic(s).Paused = true }, "WKL-016",
			model.Remedy{Action: model.ActionResume, Deployment: "traffic", Role: model.RoleTraffic, Label: "resume deployment/traffic",
				Command: "apimctl rollout resume default"}},
		{"paused ANM names its role", func(s *model.Snapshot) { anmW(s).Paused = true }, "WKL-016",
			model.Remedy{Action: model.ActionResume, Deployment: "anm", Role: model.RoleANM, Label: "resume deployment/anm",
				Command: "apimctl rollout resume - --role anm"}},
		{"a stuck rollout is undone", func(s *model.Snapshot) {
			traffic(s).Conditions[1] = model.Condition{Type: "Progressing", Status: "False", Reason: "ProgressDeadlineExceeded", Message: "x"}
		}, "WKL-017", model.Remedy{Action: model.ActionUndo, Deployment: "traffic", Role: model.RoleTraffic,
			Label: "roll deployment/traffic back to its previous revision", Command: "apimctl rollout undo default"}},
		{"a crash-looping API Manager is rolled back", func(s *model.Snapshot) {
			p := &apimgr(s).Pods[0]
			p.Ready, p.Reason = false, "CrashLoopBackOff"
		}, "WKL-015", model.Remedy{Action: model.ActionUndo, Deployment: "apimgr", Role: model.RoleAPIManager,
			Label: "roll deployment/apimgr back to its previous revision", Command: "apimctl rollout undo default --role apimgr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := modeltest.HealthySnapshot(t)
			tc.mutate(&s)
			var found bool
			for _, f := range Check(s) {
				r, ok := Remedy(f, s)
				if f.ID != tc.id {
					if ok {
						t.Errorf("%s %s offers %+v", f.ID, f.Subject, r)
					}
					continue
				}
				found = true
				want := tc.want
				want.Namespace, want.Group = s.Namespace, "default"
				if want.Role == model.RoleANM {
					want.Group = ""
				}
				if !ok || r != want {
					t.Errorf("%s: remedy %+v %v, want %+v", f.ID, r, ok, want)
				}
			}
			if !found {
				t.Fatalf("no %s finding", tc.id)
			}
		})
	}
	// A finding about something else, or about a Deployment no longer there, offers nothing.
	s := modeltest.HealthySnapshot(t)
	for _, f := range []model.Finding{{ID: "WKL-016", Subject: "deployment/gone"}, {ID: "CASS-002", Subject: "cassandra 127.0.0.1"},
		{ID: "WKL-016", Subject: "statefulset/traffic"}} {
		if r, ok := Remedy(f, s); ok {
			t.Errorf("%+v offers %+v", f, r)
		}
	}
}
