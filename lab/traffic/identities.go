package traffic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apimctl/apimctl/cluster/apimgr"
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
	mc := apimgr.Client{Base: base, Token: o.AdminToken, HTTP: c}
	stamp := time.Now().UTC().Format("20060102-150405")
	ids := make([]identity, 0, n)
	for i := range n {
		var app struct{ ID string }
		if err := mc.Call(ctx, "POST", "/api/applications", map[string]any{"name": fmt.Sprintf("lab-traffic-%s-%d", stamp, i), "apis": []string{"orders", "payments"}}, &app); err != nil {
			return nil, err
		}
		var key struct{ Key string }
		if err := mc.Call(ctx, "POST", "/api/applications/"+app.ID+"/keys", nil, &key); err != nil {
			return nil, err
		}
		var cl struct {
			ClientID     string `json:"clientId"`
			ClientSecret string `json:"clientSecret"`
		}
		if err := mc.Call(ctx, "POST", "/api/applications/"+app.ID+"/oauth-clients", map[string]any{"tokenLifetimeSeconds": int((MaxDuration + 10*time.Minute) / time.Second)}, &cl); err != nil {
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
