package server

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/metrics"
	"github.com/apimctl/apimctl/gateway/proxy"
)

// Fault injection for drills and demos (the lab marks an image tag faulty). Deliberately not
// flags: they must not show in --help, and an image's environment is where the lab can set
// them per process.
const (
	envFaultNeverReady = "APIGW_FAULT_NEVER_READY" // "1"/"true": readiness on the main port always 503
	envFaultErrorRate  = "APIGW_FAULT_ERROR_RATE"  // 0..1: share of API requests answered 500
)

// fault is what the environment asks to inject; the zero value injects nothing.
type fault struct {
	neverReady bool
	errorRate  float64
}

func faultFromEnv(lookup config.Lookup) (fault, error) {
	var f fault
	if v, ok := lookup(envFaultNeverReady); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, fmt.Errorf("%s=%q: want true or false", envFaultNeverReady, v)
		}
		f.neverReady = b
	}
	if v, ok := lookup(envFaultErrorRate); ok && v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return f, fmt.Errorf("%s=%q: want a share between 0 and 1", envFaultErrorRate, v)
		}
		f.errorRate = r
	}
	return f, nil
}

func (f fault) active() bool { return f.neverReady || f.errorRate > 0 }

// wrap injects the fault in front of the main handler. Injected errors are counted in the
// API's metrics like real ones, so the console and metric gates see them.
func (f fault) wrap(next http.Handler, pol *config.PolicyPackage, m *metrics.Metrics) http.Handler {
	type route struct {
		prefix string
		api    *metrics.API
	}
	var routes []route
	if pol != nil {
		for _, a := range pol.APIs {
			routes = append(routes, route{a.Path, m.ForAPI(a.Name)})
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthcheck" && f.neverReady {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"not_ready","checks":[{"name":"fault","ok":false,"error":"injected: never ready"}]}` + "\n"))
			return
		}
		if f.errorRate > 0 && !strings.HasPrefix(r.URL.Path, "/healthcheck") && rand.Float64() < f.errorRate {
			for _, rt := range routes {
				if r.URL.Path == rt.prefix || strings.HasPrefix(r.URL.Path, strings.TrimSuffix(rt.prefix, "/")+"/") {
					start := time.Now()
					proxy.WriteError(w, http.StatusInternalServerError, "injected_fault", "fault injected by "+envFaultErrorRate, "")
					rt.api.Request(http.StatusInternalServerError)
					rt.api.Latency.Observe(time.Since(start).Seconds())
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
