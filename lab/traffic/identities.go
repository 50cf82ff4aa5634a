package traffic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// identity is one application with an API key (for orders) and an OAuth token (payments).
type identity struct {
	app, key, token string
}

// Per-identity rate limits of the lab's policy package (orders: 100/s per key; payments:
// 1000/min per application), with headroom: the generator makes enough applications that its
// own traffic is never throttled.
const (
	ordersPerKey      = 70.0
	paymentsPerAppMin = 700.0
)

func setupIdentities(ctx context.Context, c *http.Client, mgr *pods, o Options) ([]identity, error) {
	orders := float64(o.RPS) * 0.30
	payments := float64(o.RPS) * 0.10 * 60
	n := max(1, int(orders/ordersPerKey)+1, int(payments/paymentsPerAppMin)+1)
	ts, err := mgr.wait(ctx, ": is the API Manager up?")
	if err != nil {
		return nil, err
	}
	base := "http://" + ts[0]
	call := func(method, path string, body any, out any) error {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if o.AdminToken != "" {
			req.Header.Set("Authorization", "Bearer "+o.AdminToken)
		}
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("API Manager %s %s: %w", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("API Manager %s %s: %s %s", method, path, resp.Status, strings.TrimSpace(string(b)))
		}
		return json.Unmarshal(b, out)
	}
	stamp := time.Now().UTC().Format("20060102-150405")
	ids := make([]identity, 0, n)
	for i := range n {
		var app struct{ ID string }
		if err := call("POST", "/api/applications", map[string]any{"name": fmt.Sprintf("lab-traffic-%s-%d", stamp, i), "apis": []string{"orders", "payments"}}, &app); err != nil {
			return nil, err
		}
		var key struct{ Key string }
		if err := call("POST", "/api/applications/"+app.ID+"/keys", nil, &key); err != nil {
			return nil, err
		}
		var cl struct {
			ClientID     string `json:"clientId"`
			ClientSecret string `json:"clientSecret"`
		}
		if err := call("POST", "/api/applications/"+app.ID+"/oauth-clients", map[string]any{"tokenLifetimeSeconds": int((MaxDuration + 10*time.Minute) / time.Second)}, &cl); err != nil {
			return nil, err
		}
		form := url.Values{"grant_type": {"client_credentials"}}
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(cl.ClientID, cl.ClientSecret)
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("API Manager token endpoint: %w", err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || tok.AccessToken == "" {
			return nil, fmt.Errorf("API Manager token endpoint: %s %v", resp.Status, err)
		}
		ids = append(ids, identity{app: app.ID, key: key.Key, token: tok.AccessToken})
	}
	return ids, nil
}
