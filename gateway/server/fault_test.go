package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/metrics"
)

func TestFaultFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		want    fault
		wantErr bool
	}{
		{env: nil, want: fault{}},
		{env: map[string]string{envFaultNeverReady: "true"}, want: fault{neverReady: true}},
		{env: map[string]string{envFaultErrorRate: "0.3"}, want: fault{errorRate: 0.3}},
		{env: map[string]string{envFaultErrorRate: "1.5"}, wantErr: true},
		{env: map[string]string{envFaultNeverReady: "maybe"}, wantErr: true},
	} {
		got, err := faultFromEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("%v: got %+v, %v", tc.env, got, err)
		}
	}
}

func TestFaultWrapInjectsCountedErrorsAndNeverReady(t *testing.T) {
	pol := &config.PolicyPackage{APIs: []config.API{{Name: "catalog", Path: "/catalog"}}}
	m := metrics.New("g", "1.0.2")
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h := fault{neverReady: true, errorRate: 1}.wrap(next, pol, m)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthcheck", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "injected") {
		t.Fatalf("readiness %d %s", rec.Code, rec.Body)
	}
	for range 5 {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/catalog/1k", nil))
		if rec.Code != 500 {
			t.Fatalf("API request %d, want an injected 500", rec.Code)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/other", nil))
	if rec.Code != 200 {
		t.Errorf("a path of no API got %d", rec.Code)
	}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var counted float64
	for _, mf := range mfs {
		if mf.GetName() != "apigw_requests_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["api"] == "catalog" && labels["code_class"] == "5xx" && labels["image_tag"] == "1.0.2" {
				counted = mt.GetCounter().GetValue()
			}
		}
	}
	if counted != 5 {
		t.Errorf("5xx counted %v, want 5", counted)
	}

	half := fault{errorRate: 0.5}.wrap(next, pol, metrics.New("g", "t"))
	fails := 0
	for range 2000 {
		rec := httptest.NewRecorder()
		half.ServeHTTP(rec, httptest.NewRequest("GET", "/catalog", nil))
		if rec.Code == 500 {
			fails++
		}
	}
	if fails < 850 || fails > 1150 {
		t.Errorf("%d of 2000 failed at rate 0.5", fails)
	}
}
