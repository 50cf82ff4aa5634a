package prom

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Series is one series of a range query: its labels and its samples, oldest first.
type Series struct {
	Labels map[string]string
	Times  []time.Time
	Values []float64
}

// Sample is one series of an instant query.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// RangeSeries evaluates q from start to end at step and returns its series.
func (c *Client) RangeSeries(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]Series, error) {
	v, err := c.QueryRange(ctx, q, start, end, step)
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %q: got a %s, not a range vector", q, v.Type())
	}
	out := make([]Series, 0, len(m))
	for _, ss := range m {
		s := Series{Labels: labels(ss.Metric), Times: make([]time.Time, len(ss.Values)), Values: make([]float64, len(ss.Values))}
		for i, p := range ss.Values {
			s.Times[i], s.Values[i] = p.Timestamp.Time(), float64(p.Value)
		}
		out = append(out, s)
	}
	return out, nil
}

// Instant evaluates q at t and returns its samples (a scalar is one sample without labels).
func (c *Client) Instant(ctx context.Context, q string, t time.Time) ([]Sample, error) {
	v, _, _, err := c.api.Query(ctx, q, t)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case model.Vector:
		out := make([]Sample, 0, len(v))
		for _, s := range v {
			out = append(out, Sample{Labels: labels(s.Metric), Value: float64(s.Value)})
		}
		return out, nil
	case *model.Scalar:
		return []Sample{{Value: float64(v.Value)}}, nil
	}
	return nil, fmt.Errorf("query %q: got a %s, not an instant vector", q, v.Type())
}

// Alert is one active alert: pending (its condition holds, not yet for long enough) or firing.
type Alert struct {
	Labels      map[string]string
	Annotations map[string]string
	State       string // pending, firing
	ActiveAt    time.Time
	Value       string
}

// Alerts lists the server's active alerts (GET /api/v1/alerts); inactive ones are not listed.
func (c *Client) Alerts(ctx context.Context) ([]Alert, error) {
	r, err := c.api.Alerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	out := make([]Alert, 0, len(r.Alerts))
	for _, a := range r.Alerts {
		out = append(out, Alert{Labels: labelSet(a.Labels), Annotations: labelSet(a.Annotations),
			State: string(a.State), ActiveAt: a.ActiveAt, Value: a.Value})
	}
	return out, nil
}

// AlertingRule is one alerting rule as the server evaluates it.
type AlertingRule struct {
	Group, Name string
	State       string // inactive, pending, firing
	Health      string // ok, err, unknown
	LastError   string
	Labels      map[string]string
}

// AlertingRules lists the server's alerting rules (GET /api/v1/rules).
func (c *Client) AlertingRules(ctx context.Context) ([]AlertingRule, error) {
	r, err := c.api.Rules(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	var out []AlertingRule
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			if ar, ok := rule.(v1.AlertingRule); ok {
				out = append(out, AlertingRule{Group: g.Name, Name: ar.Name, State: ar.State, Health: string(ar.Health),
					LastError: ar.LastError, Labels: labelSet(ar.Labels)})
			}
		}
	}
	return out, nil
}

func labels(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

func labelSet(m model.LabelSet) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}
