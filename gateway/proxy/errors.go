// Package proxy is the traffic gateway's request path: route by path prefix, apply the API's
// policies, forward (bodiless requests with the gateway's own HTTP/1.1 client, upstream.go;
// the rest with httputil.ReverseProxy over a tuned transport), count and log.
package proxy

import (
	"net/http"
	"strconv"

	"github.com/apimctl/apimctl/gateway/eventlog"
	"github.com/apimctl/apimctl/gateway/policy"
)

// WriteError renders every error the gateway itself produces, in one JSON shape:
//
//	{"error":"invalid_api_key","message":"the API key is not valid","api":"orders","status":401}
//
// The body is built by hand so the error path does not allocate more than the success path.
func WriteError(w http.ResponseWriter, status int, code, message, api string) {
	b := make([]byte, 0, 160)
	b = append(b, `{"error":`...)
	b = appendStr(b, code)
	b = append(b, `,"message":`...)
	b = appendStr(b, message)
	if api != "" {
		b = append(b, `,"api":`...)
		b = appendStr(b, api)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeRejection(w http.ResponseWriter, r *policy.Rejection, api string) {
	if r.Authn != "" {
		w.Header().Set("WWW-Authenticate", r.Authn)
	}
	if r.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(r.RetryAfter))
	}
	WriteError(w, r.Status, r.Code, r.Message, api)
}

func appendStr(b []byte, s string) []byte { return eventlog.AppendJSONString(b, s) }
