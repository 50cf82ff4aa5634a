package dr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/apimctl/apimctl/backup"
	"github.com/apimctl/apimctl/cluster/kube"
	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/internal/statedir"
)

// Smoke traffic after a DR restore: an API key issued before the backup must be accepted by
// the restored gateways, a key revoked before it refused, and the restored metrics database
// must answer with the backup's rows. The keys are a canary's (see Canary), kept in a file
// that only its owner may read.

// SmokeKeys are the canary's keys and the API they open.
type SmokeKeys struct {
	Created time.Time `json:"created"`
	App     string    `json:"app"`
	API     string    `json:"api"`
	Path    string    `json:"path"`   // a path of the API that needs a key: GET answers 2xx with one
	Header  string    `json:"header"` // X-API-Key (or KeyId)
	Valid   string    `json:"valid"`
	Revoked string    `json:"revoked"`
}

// DefaultSmokeKeys is $APIMCTL_DRILL_KEYS, else drill-keys.json in apimctl's state
// directory.
func DefaultSmokeKeys(getenv func(string) string) string {
	return statedir.Path(getenv, "APIMCTL_DRILL_KEYS", "drill-keys.json")
}

// ReadSmokeKeys reads the keys file, refusing one others may read (as ssh refuses a key).
func ReadSmokeKeys(path string) (*SmokeKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("smoke keys %s: no such file: make the canary first (apimctl dr canary), before the backup the drill restores", path)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("smoke keys %s: mode %v lets others read the keys: chmod 600 it", path, fi.Mode().Perm())
	}
	var k SmokeKeys
	if err := json.NewDecoder(io.LimitReader(f, 1<<20)).Decode(&k); err != nil {
		return nil, fmt.Errorf("smoke keys %s: %w", path, err)
	}
	if k.Valid == "" || k.Revoked == "" || !strings.HasPrefix(k.Path, "/") {
		return nil, fmt.Errorf("smoke keys %s: needs path (/…), valid and revoked", path)
	}
	if k.Header == "" {
		k.Header = "X-API-Key"
	}
	return &k, nil
}

// WriteSmokeKeys writes the keys file (0600, atomically).
func WriteSmokeKeys(path string, k *SmokeKeys) error {
	b, err := json.MarshalIndent(k, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// serviceTargets are the addresses of the ready, running pods a Service selects, at its
// first port's target port: the gateways as the Service would reach them (also where a
// Service has no endpoints the bastion can reach).
func serviceTargets(ctx context.Context, cs kubernetes.Interface, ns, name string) ([]string, error) {
	svc, err := cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", ns, name, err)
	}
	if len(svc.Spec.Selector) == 0 || len(svc.Spec.Ports) == 0 {
		return nil, fmt.Errorf("service %s/%s has no selector or port", ns, name)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return nil, err
	}
	sp := svc.Spec.Ports[0]
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.PodIP == "" || !kube.PodReady(&p) {
			continue
		}
		out = append(out, net.JoinHostPort(p.Status.PodIP, fmt.Sprint(kube.TargetPort(&p, sp))))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("service %s/%s has no ready pod", ns, name)
	}
	return out, nil
}

// smokeClient never follows redirects (a gateway's answer is what is judged) and bounds
// every request.
var smokeClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// keyAnswer sends GET base+path with the key and returns the status, retrying for up to
// wait on connection errors and 5xx (a gateway that just became ready may still be
// warming its connection to Cassandra).
func keyAnswer(ctx context.Context, base string, k *SmokeKeys, key string, wait time.Duration) (int, error) {
	deadline := time.Now().Add(wait)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+k.Path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set(k.Header, key)
		resp, err := smokeClient.Do(req)
		code := 0
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			code = resp.StatusCode
			if code < 500 {
				return code, nil
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return 0, err
			}
			return code, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// metricsAnswer connects to the restored metrics database as the target site's gateways do
// (the target namespace's metrics-db-credentials Secret, else the connection's) and reads
// every table the backup holds. Counts are reported, not compared: the DR site's own Admin
// Node Manager writes to the database as soon as it runs.
func metricsAnswer(ctx context.Context, addr, database, user, password string, m *backup.Manifest) (string, error) {
	db, err := mysql.Open(mysql.Target{Addr: addr, Database: database, User: user, Password: password, Timeout: 10 * time.Second})
	if err != nil {
		return "", err
	}
	defer db.Close()
	want := map[string]int64{}
	for _, p := range m.PartsOf(backup.KindMySQLRows) {
		want[p.Table] += p.Items
	}
	tables := make([]string, 0, len(want))
	for t := range want {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	var have, backedUp int64
	for _, t := range tables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+strings.ReplaceAll(t, "`", "``")+"`").Scan(&n); err != nil {
			return "", fmt.Errorf("%s.%s: %w", database, t, err)
		}
		have += n
		backedUp += want[t]
	}
	return fmt.Sprintf("%s@%s as the DR site's Secret says: %d tables readable, %d rows (the backup had %d)", database, addr, len(tables), have, backedUp), nil
}
