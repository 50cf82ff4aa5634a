package tui

import (
	"strings"

	"github.com/apimctl/apimctl/ops/model"
)

// Selected is the pod under the cursor.
func (v *podsView) Selected() (model.Ref, bool) {
	i, ok := v.tbl.SelectedIndex()
	if !ok || v.snap == nil || i >= len(v.pods) {
		return model.Ref{}, false
	}
	return model.Ref{Kind: model.RefPod, Namespace: v.snap.Namespace, Name: v.pods[i].Name}, true
}

// Selected is the object of the event under the cursor, when the console can open it: a
// pod, a Deployment, an HPA.
func (v *eventsView) Selected() (model.Ref, bool) {
	i, ok := v.tbl.SelectedIndex()
	if !ok || v.snap == nil || i >= len(v.events) {
		return model.Ref{}, false
	}
	return eventRef(v.events[i].Object, v.snap.Namespace)
}

// eventRef is the drill-down of an event's "Kind/name" object.
func eventRef(object, namespace string) (model.Ref, bool) {
	kind, name, ok := strings.Cut(object, "/")
	if !ok || name == "" {
		return model.Ref{}, false
	}
	switch kind {
	case "Pod":
		return model.Ref{Kind: model.RefPod, Namespace: namespace, Name: name}, true
	case "Deployment":
		return model.Ref{Kind: model.RefDeployment, Namespace: namespace, Name: name}, true
	case "HorizontalPodAutoscaler":
		return model.Ref{Kind: model.RefHPA, Namespace: namespace, Name: name}, true
	}
	return model.Ref{}, false
}
