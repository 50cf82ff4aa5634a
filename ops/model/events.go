package model

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

func eventInfo(e *corev1.Event) EventInfo {
	t := e.LastTimestamp.Time
	if t.IsZero() {
		t = e.EventTime.Time
	}
	if t.IsZero() {
		t = e.FirstTimestamp.Time
	}
	if t.IsZero() {
		t = e.CreationTimestamp.Time
	}
	count := e.Count
	if e.Series != nil && e.Series.Count > count {
		count = e.Series.Count
	}
	return EventInfo{
		Time:    t,
		Type:    e.Type,
		Reason:  e.Reason,
		Object:  e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
		Message: e.Message,
		Count:   count,
	}
}

// sortEvents orders newest first; ties by object then reason, so output is stable.
func sortEvents(ev []EventInfo) {
	sort.SliceStable(ev, func(a, b int) bool {
		if !ev[a].Time.Equal(ev[b].Time) {
			return ev[a].Time.After(ev[b].Time)
		}
		if ev[a].Object != ev[b].Object {
			return ev[a].Object < ev[b].Object
		}
		return ev[a].Reason < ev[b].Reason
	})
}

// EventsOf are events as the console shows them, newest first.
func EventsOf(events []corev1.Event) []EventInfo {
	out := make([]EventInfo, 0, len(events))
	for i := range events {
		out = append(out, eventInfo(&events[i]))
	}
	sortEvents(out)
	return out
}
