package inspect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/apimctl/apimctl/cluster/prom"
	"github.com/apimctl/apimctl/ops/model"
)

// The traffic drill-down's window and resolution: 15 minutes at 15 s, 61 points.
const (
	TrafficWindow = 15 * time.Minute
	TrafficStep   = 15 * time.Second
	promTimeout   = 8 * time.Second
)

// trafficSelector is the PromQL label matchers of a group's traffic (its APIs and unmatched
// requests, not the management roles' own) or of one API's, in the console's namespace (all
// namespaces when ""). Values are quoted as PromQL strings (Go's escaping rules), so a label
// value cannot change the query.
func trafficSelector(namespace, group, api string) string {
	sel := "group=" + strconv.Quote(group)
	if namespace != "" {
		sel = "namespace=" + strconv.Quote(namespace) + "," + sel
	}
	if api != "" {
		return sel + ",api=" + strconv.Quote(api)
	}
	return sel + `,api!~"` + model.APILabelANM + "|" + model.APILabelAPIMgr + `"`
}

// trafficQueries are the range queries of the drill-down's five series, by selector.
func trafficQueries(sel string) [5]string {
	q := func(quantile string) string {
		return "histogram_quantile(" + quantile + ", sum by (le) (rate(apigw_request_duration_seconds_bucket{" + sel + "}[1m])))"
	}
	return [5]string{
		"sum(rate(apigw_requests_total{" + sel + "}[1m]))",
		q("0.5"), q("0.9"), q("0.99"),
		`sum(rate(apigw_requests_total{` + sel + `,code_class="5xx"}[1m])) / sum(rate(apigw_requests_total{` + sel + `}[1m]))`,
	}
}

// Traffic drills into a gateway group's traffic (api "") or one API's, in the console's
// namespace: requests per second,
// p50/p90/p99 latency and the 5xx ratio over the last 15 minutes from range queries, the
// errors that made up the window, and the pods serving it now. Prometheus answering with no
// series is not an error: the series are then empty (Series.Empty).
func (i *Inspector) Traffic(ctx context.Context, group, api string) (*model.TrafficDetail, error) {
	url := i.Conn.Targets.PrometheusURL
	if url == "" {
		return nil, errors.New("no Prometheus URL: set --prometheus-url or PROMETHEUS_URL")
	}
	if group == "" {
		return nil, errors.New("traffic: no gateway group given")
	}
	c, err := prom.New(url)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, promTimeout)
	defer cancel()
	end := time.Now().Truncate(TrafficStep)
	start := end.Add(-TrafficWindow)
	n := int(TrafficWindow/TrafficStep) + 1
	sel := trafficSelector(i.Conn.Targets.Namespace, group, api)
	d := &model.TrafficDetail{Group: group, API: api, Window: TrafficWindow}
	series := []*model.Series{&d.RPS, &d.P50, &d.P90, &d.P99, &d.ErrorRatio}
	g, gctx := errgroup.WithContext(ctx)
	for k, q := range trafficQueries(sel) {
		g.Go(func() error {
			ss, err := c.RangeSeries(gctx, q, start, end, TrafficStep)
			if err != nil {
				return fmt.Errorf("prometheus %s: %w", url, err)
			}
			*series[k] = model.AlignSeries(start, TrafficStep, n, nil, nil)
			if len(ss) > 0 {
				*series[k] = model.AlignSeries(start, TrafficStep, n, ss[0].Times, ss[0].Values)
			}
			return nil
		})
	}
	g.Go(func() error {
		var err error
		d.TopErrors, err = topErrors(gctx, c, sel, end)
		return err
	})
	g.Go(func() error {
		var err error
		d.Pods, err = podRates(gctx, c, sel, end)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return d, nil
}

// topErrors are the window's errors, the most frequent first: each failing status class,
// the policies' rejections by reason and the backend failures, as average rates.
func topErrors(ctx context.Context, c *prom.Client, sel string, at time.Time) ([]model.CodeRate, error) {
	w := fmt.Sprintf("[%ds]", int(TrafficWindow.Seconds()))
	secs := TrafficWindow.Seconds()
	var out []model.CodeRate
	classes, err := c.Instant(ctx, `sum by (code_class) (increase(apigw_requests_total{`+sel+`,code_class=~"4xx|5xx|other"}`+w+`))`, at)
	if err != nil {
		return nil, fmt.Errorf("top errors: %w", err)
	}
	for _, s := range classes {
		class := s.Labels["code_class"]
		out = append(out, model.CodeRate{Code: class, Reason: "all " + class + " responses", RPS: s.Value / secs})
	}
	rejections, err := c.Instant(ctx, `sum by (policy, reason) (increase(apigw_policy_rejections_total{`+sel+`}`+w+`))`, at)
	if err != nil {
		return nil, fmt.Errorf("top errors: %w", err)
	}
	for _, s := range rejections {
		reason := strings.TrimSpace(s.Labels["policy"] + " " + s.Labels["reason"])
		out = append(out, model.CodeRate{Code: "rejected", Reason: reason, RPS: s.Value / secs})
	}
	upstream, err := c.Instant(ctx, `sum(increase(apigw_upstream_errors_total{`+sel+`}`+w+`))`, at)
	if err != nil {
		return nil, fmt.Errorf("top errors: %w", err)
	}
	for _, s := range upstream {
		out = append(out, model.CodeRate{Code: "5xx", Reason: "backend unreachable or failed", RPS: s.Value / secs})
	}
	return model.TopErrors(out), nil
}

// podRates are the pods serving the traffic now, the busiest first, with their 5xx ratio.
func podRates(ctx context.Context, c *prom.Client, sel string, at time.Time) ([]model.PodRate, error) {
	rates, err := c.Instant(ctx, `sum by (namespace, pod) (rate(apigw_requests_total{`+sel+`}[1m]))`, at)
	if err != nil {
		return nil, fmt.Errorf("pods: %w", err)
	}
	errs, err := c.Instant(ctx, `sum by (namespace, pod) (rate(apigw_requests_total{`+sel+`,code_class="5xx"}[1m]))`, at)
	if err != nil {
		return nil, fmt.Errorf("pods: %w", err)
	}
	bad := map[[2]string]float64{}
	for _, s := range errs {
		bad[[2]string{s.Labels["namespace"], s.Labels["pod"]}] = s.Value
	}
	var out []model.PodRate
	for _, s := range rates {
		p := model.PodRate{Namespace: s.Labels["namespace"], Pod: s.Labels["pod"], RPS: s.Value}
		if p.Pod == "" {
			continue
		}
		if s.Value > 0 {
			p.ErrorRatio = bad[[2]string{p.Namespace, p.Pod}] / s.Value
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RPS != out[j].RPS {
			return out[i].RPS > out[j].RPS
		}
		return out[i].Pod < out[j].Pod
	})
	return out, nil
}
