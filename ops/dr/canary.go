package dr

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apimctl/apimctl/cluster/apimgr"
	"github.com/apimctl/apimctl/ops/action"
	"github.com/apimctl/apimctl/ops/live"
)

// The drill's canary: an application on the primary site's API Manager with two API keys
// for one API, one of them revoked at once. Made before a backup, it is in that backup; a
// drill then proves the DR side accepts the one and refuses the other.

// CanaryOptions say where the canary is made and where its keys are kept.
type CanaryOptions struct {
	API, Path string // the API the application may call, and a path of it that needs a key
	Header    string // X-API-Key by default
	KeysFile  string // DefaultSmokeKeys
	// APIMgrURL is the API Manager's base URL (default: a ready pod of Service APIMgrService
	// in the namespace); the admin token comes from $APIMGR_ADMIN_TOKEN, else the
	// apimgr-admin Secret.
	APIMgrURL, APIMgrService string
	Getenv                   func(string) string
	Now                      func() time.Time
}

// CanaryAction makes the canary. Its Result.Value is the SmokeKeys (with the keys: the
// front end must not print them).
func CanaryAction(conn *live.Connection, o CanaryOptions) *action.Action {
	if o.Header == "" {
		o.Header = "X-API-Key"
	}
	if o.APIMgrService == "" {
		o.APIMgrService = "apimgr"
	}
	if o.KeysFile == "" {
		o.KeysFile = DefaultSmokeKeys(o.Getenv)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ns := conn.Targets.Namespace
	return &action.Action{
		Name:     "dr.canary",
		Scope:    action.Scope{Context: conn.Targets.Context, Namespace: ns, Resource: "application apimctl-dr-canary"},
		What:     "make the DR drill's canary application",
		Question: fmt.Sprintf("Create application apimctl-dr-canary on the API Manager of %s with two keys for %s (one revoked at once)?", ns, o.API),
		Plan: []action.Field{{Key: "application", Value: "apimctl-dr-canary (API " + o.API + ")"}, {Key: "keys", Value: "two; the second revoked at once"},
			{Key: "smoke", Value: "GET " + o.Path + " with header " + o.Header}, {Key: "kept in", Value: o.KeysFile + " (0600)"}},
		Details: map[string]string{"api": o.API, "path": o.Path, "keys": o.KeysFile},
		Needs:   []action.Permission{{Resource: "pods", Verb: "list", Namespace: ns}},
		Do: func(ctx context.Context, progress func(string)) (action.Result, error) {
			base := strings.TrimRight(o.APIMgrURL, "/")
			if base == "" {
				if conn.Kube == nil {
					return action.Result{}, fmt.Errorf("no Kubernetes connection to find the API Manager: give --apimgr-url")
				}
				targets, err := serviceTargets(ctx, conn.Kube.Clientset, ns, o.APIMgrService)
				if err != nil {
					return action.Result{}, err
				}
				base = "http://" + targets[0]
			}
			token := ""
			if o.Getenv != nil {
				token = o.Getenv("APIMGR_ADMIN_TOKEN")
			}
			if token == "" && conn.Kube != nil {
				if s, err := conn.Kube.Clientset.CoreV1().Secrets(ns).Get(ctx, "apimgr-admin", metav1.GetOptions{}); err == nil {
					token = string(s.Data["APIMGR_ADMIN_TOKEN"])
				}
			}
			mgr := apimgr.Client{Base: base, Token: token, HTTP: smokeClient}
			var app struct{ ID string }
			name := "apimctl-dr-canary-" + o.Now().UTC().Format("20060102T150405Z")
			if err := mgr.Call(ctx, "POST", "/api/applications", map[string]any{"name": name, "apis": []string{o.API}}, &app); err != nil {
				return action.Result{}, err
			}
			progress("application " + name + " (" + app.ID + ")")
			var valid, revoked struct {
				KeyID string `json:"keyId"`
				Key   string `json:"key"`
			}
			if err := mgr.Call(ctx, "POST", "/api/applications/"+app.ID+"/keys", nil, &valid); err != nil {
				return action.Result{}, err
			}
			if err := mgr.Call(ctx, "POST", "/api/applications/"+app.ID+"/keys", nil, &revoked); err != nil {
				return action.Result{}, err
			}
			if err := mgr.Call(ctx, "DELETE", "/api/applications/"+app.ID+"/keys/"+revoked.KeyID, nil, nil); err != nil {
				return action.Result{}, err
			}
			progress("two keys, " + revoked.KeyID + " revoked")
			k := &SmokeKeys{Created: o.Now().UTC(), App: app.ID, API: o.API, Path: o.Path, Header: o.Header, Valid: valid.Key, Revoked: revoked.Key}
			if err := WriteSmokeKeys(o.KeysFile, k); err != nil {
				return action.Result{}, err
			}
			return action.Result{Value: k, Details: map[string]string{"app": app.ID}}, nil
		},
	}
}
