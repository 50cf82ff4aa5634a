package prom

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Client queries one Prometheus server.
type Client struct{ api v1.API }

// New returns a client for the server at url.
func New(url string) (*Client, error) {
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	return &Client{api: v1.NewAPI(c)}, nil
}

// Version is the server's build version.
func (c *Client) Version(ctx context.Context) (string, error) {
	b, err := c.api.Buildinfo(ctx)
	if err != nil {
		return "", err
	}
	return b.Version, nil
}

// Query evaluates an instant query now.
func (c *Client) Query(ctx context.Context, q string) (model.Value, error) {
	v, _, _, err := c.api.Query(ctx, q, time.Now())
	return v, err
}

// QueryRange evaluates q from start to end at step.
func (c *Client) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (model.Value, error) {
	v, _, _, err := c.api.QueryRange(ctx, q, v1.Range{Start: start, End: end, Step: step})
	return v, err
}
