package rollout

import (
	"context"
	"fmt"
	"time"

	"github.com/apimctl/apimctl/cluster/prom"
	"github.com/apimctl/apimctl/ops/model"
	pmodel "github.com/prometheus/common/model"
)

// Gate judges the new pods by their 5xx ratio in Prometheus while the rollout runs and for
// Hold after it completed.
type Gate struct {
	MaxErrorRatio float64       // e.g. 0.05; the gate fails above it
	MinRequests   float64       // fewer requests than this over Window are not judged
	Window        time.Duration // PromQL range of the ratio
	Hold          time.Duration // how long the completed rollout is watched
	// Query is the PromQL of the error ratio with %s for the label selector; Requests the
	// request count (increase) over the window.
	Query, Requests string
}

// DefaultGate: at most 5 % 5xx from the new pods, judged on at least 20 requests a minute,
// watched for 30 s after the last pod is ready.
func DefaultGate() Gate {
	return Gate{MaxErrorRatio: 0.05, MinRequests: 20, Window: time.Minute, Hold: 30 * time.Second,
		Query:    `sum(rate(apigw_requests_total{%s,code_class="5xx"}[%s])) / sum(rate(apigw_requests_total{%s}[%s]))`,
		Requests: `sum(increase(apigw_requests_total{%s}[%s]))`}
}

// errorRatio is the gate's reading for the pods of the new image.
func (r *Rollouts) errorRatio(ctx context.Context, p *RolloutPlan, g Gate) (ratio, requests float64, err error) {
	sel := fmt.Sprintf(`namespace=%q,role=%q,image_tag=%q`, p.Namespace, p.Role, model.ImageTag(p.ToImage))
	if p.Group != "" {
		sel += fmt.Sprintf(`,group=%q`, p.Group)
	}
	w := pmodel.Duration(g.Window).String()
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := scalar(qctx, r.Prom, fmt.Sprintf(g.Requests, sel, w))
	if err != nil || n < g.MinRequests {
		return 0, n, err
	}
	ratio, err = scalar(qctx, r.Prom, fmt.Sprintf(g.Query, sel, w, sel, w))
	return ratio, n, err
}

// scalar is the single value of an instant query (0 when the result is empty).
func scalar(ctx context.Context, c *prom.Client, q string) (float64, error) {
	v, err := c.Query(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("prometheus: %w", err)
	}
	if vec, ok := v.(pmodel.Vector); ok && len(vec) > 0 {
		f := float64(vec[0].Value)
		if f != f { // NaN: no requests in the window
			return 0, nil
		}
		return f, nil
	}
	return 0, nil
}
