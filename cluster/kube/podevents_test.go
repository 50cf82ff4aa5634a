package kube

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

func ev(uid, pod string, reason string, count int32, last time.Time) *corev1.Event {
	return &corev1.Event{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid), Name: pod + "." + uid},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: pod, UID: types.UID("uid-" + pod)},
		Reason:         reason, Message: reason + " of " + pod, Type: "Normal", Count: count,
		FirstTimestamp: metav1.NewTime(last.Add(-time.Minute)), LastTimestamp: metav1.NewTime(last)}
}

func TestPodEventStore(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := &podEventStore{byUID: map[types.UID]*podEvent{}, byPod: map[string][]*podEvent{}, words: map[string]string{}}
	p := &PodEvents{store: s}
	if p.Synced() {
		t.Fatal("synced before the first list")
	}
	if err := s.Replace([]any{ev("1", "a", "Scheduled", 1, t0), ev("2", "a", "Started", 1, t0), ev("3", "b", "Scheduled", 1, t0)}, "10"); err != nil {
		t.Fatal(err)
	}
	if !p.Synced() || p.Len() != 3 || len(p.For("a")) != 2 || len(p.For("b")) != 1 || len(p.For("c")) != 0 {
		t.Fatalf("after the list: synced %v, %d events, a %d, b %d", p.Synced(), p.Len(), len(p.For("a")), len(p.For("b")))
	}
	// An update replaces (the count grows), a delete removes, a new pod's event is added.
	_ = s.Update(ev("2", "a", "Started", 4, t0.Add(time.Hour)))
	_ = s.Delete(cache.DeletedFinalStateUnknown{Key: "x", Obj: ev("3", "b", "Scheduled", 1, t0)})
	_ = s.Add(ev("4", "c", "BackOff", 2, t0))
	if p.Len() != 3 || len(p.For("b")) != 0 || len(p.For("c")) != 1 {
		t.Fatalf("after the watch: %d events, b %d, c %d", p.Len(), len(p.For("b")), len(p.For("c")))
	}
	for _, e := range p.For("a") {
		if e.Reason == "Started" && (e.Count != 4 || !e.LastTimestamp.Time.Equal(t0.Add(time.Hour)) || e.InvolvedObject.UID != "uid-a" || e.Message != "Started of a") {
			t.Fatalf("updated event: %+v", e)
		}
	}
	// A series' count and last observation stand in for the legacy fields.
	series := ev("5", "d", "Unhealthy", 0, time.Time{})
	series.LastTimestamp, series.FirstTimestamp = metav1.Time{}, metav1.Time{}
	series.EventTime = metav1.NewMicroTime(t0)
	series.Series = &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(t0.Add(time.Minute))}
	_ = s.Add(series)
	if e := p.For("d")[0]; e.Count != 7 || !e.LastTimestamp.Time.Equal(t0.Add(time.Minute)) || !e.FirstTimestamp.Time.Equal(t0) {
		t.Fatalf("series: %+v", e)
	}
	if err := s.Add("not an event"); err == nil {
		t.Fatal("a non-event was taken")
	}
}
