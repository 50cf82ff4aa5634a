package prom_test

import (
	"context"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab/labtest"
)

// TestRangeInstantAndAlerts: a range query returns its series at the step asked, an instant
// query its samples with labels, a query without series nothing, a bad query an error; the
// alerts and rules endpoints answer.
func TestRangeInstantAndAlerts(t *testing.T) {
	env := labtest.Require(t)
	c := labtest.Prometheus(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	end := time.Now()
	ss, err := c.RangeSeries(ctx, `up{job="prometheus"}`, end.Add(-2*time.Minute), end, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || len(ss[0].Values) < 2 || ss[0].Labels["job"] != "prometheus" {
		t.Fatalf("range series %+v", ss)
	}
	for i := 1; i < len(ss[0].Times); i++ {
		if d := ss[0].Times[i].Sub(ss[0].Times[i-1]); d != 15*time.Second {
			t.Errorf("step %s between samples", d)
		}
	}
	sm, err := c.Instant(ctx, `up`, end)
	if err != nil || len(sm) == 0 || sm[0].Labels["job"] == "" {
		t.Fatalf("instant %+v %v", sm, err)
	}
	none, err := c.RangeSeries(ctx, `up{job="no-such-job"}`, end.Add(-time.Minute), end, 15*time.Second)
	if err != nil || len(none) != 0 {
		t.Errorf("no series: %+v %v", none, err)
	}
	if _, err := c.Instant(ctx, `sum(`, end); err == nil {
		t.Error("a bad query gave no error")
	}
	if _, err := c.Alerts(ctx); err != nil {
		t.Error(err)
	}
	if _, err := c.AlertingRules(ctx); err != nil {
		t.Error(err)
	}
}
