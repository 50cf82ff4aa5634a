package anm

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/apimctl/apimctl/gateway/adminauth"
	"github.com/apimctl/apimctl/gateway/proxy"
)

// Topology is the monitoring summary: the gateway groups and instances seen in the events.
type Topology struct {
	Groups       []Group   `json:"groups"`
	EventsDir    string    `json:"eventsDir"`
	EventFiles   int       `json:"eventFiles"`
	PendingBytes int64     `json:"pendingBytes"`
	LastRun      time.Time `json:"lastRun"`
	LastError    string    `json:"lastError,omitempty"`
}

// Group is one gateway group.
type Group struct {
	Name      string     `json:"name"`
	Instances []Instance `json:"instances"`
}

// MinuteRow is one per-minute aggregate of an API.
type MinuteRow struct {
	Group        string    `json:"group"`
	API          string    `json:"api"`
	Minute       time.Time `json:"minute"`
	Requests     int64     `json:"requests"`
	Status2xx    int64     `json:"status2xx"`
	Status4xx    int64     `json:"status4xx"`
	Status5xx    int64     `json:"status5xx"`
	AvgLatencyMs float64   `json:"avgLatencyMs"`
	MaxLatencyMs float64   `json:"maxLatencyMs"`
	BytesOut     int64     `json:"bytesOut"`
}

// Topology returns the current summary.
func (s *Streamer) Topology() Topology {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := Topology{EventsDir: s.Dir, EventFiles: s.files, PendingBytes: s.pending, LastRun: s.lastRun, LastError: s.lastErr, Groups: []Group{}}
	byGroup := map[string][]Instance{}
	for _, in := range s.instances {
		byGroup[in.Group] = append(byGroup[in.Group], *in)
	}
	for g, ins := range byGroup {
		sort.Slice(ins, func(i, j int) bool { return ins[i].Instance < ins[j].Instance })
		t.Groups = append(t.Groups, Group{Name: g, Instances: ins})
	}
	sort.Slice(t.Groups, func(i, j int) bool { return t.Groups[i].Name < t.Groups[j].Name })
	return t
}

// Mount adds the monitoring API to mux, for the bearer of token only (adminauth.Require:
// an empty token refuses everyone).
func (s *Streamer) Mount(mux *http.ServeMux, token string) {
	mux.Handle("GET /api/topology", adminauth.Require(token, "anm", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.Topology())
	})))
	mux.Handle("GET /api/metrics", adminauth.Require(token, "anm", http.HandlerFunc(s.metricsHandler)))
}

func (s *Streamer) metricsHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	api := q.Get("api")
	if api == "" {
		proxy.WriteError(w, http.StatusBadRequest, "invalid_request", "give the API with ?api=NAME (and optionally &minutes=60&group=G)", "")
		return
	}
	minutes := 60
	if m := q.Get("minutes"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 7*24*60 {
			proxy.WriteError(w, http.StatusBadRequest, "invalid_request", "minutes must be between 1 and 10080", "")
			return
		}
		minutes = n
	}
	since := time.Now().UTC().Add(-time.Duration(minutes) * time.Minute).Truncate(time.Minute)
	query := `SELECT group_name, api, minute, requests, status_2xx, status_4xx, status_5xx, latency_ms_sum, latency_ms_max, bytes_out
		FROM ` + s.aggTable() + ` WHERE api = ? AND minute >= ?`
	args := []any{api, since}
	if g := q.Get("group"); g != "" {
		query += ` AND group_name = ?`
		args = append(args, g)
	}
	query += ` ORDER BY minute, group_name`
	rows, err := s.DB.QueryContext(r.Context(), query, args...)
	if err != nil {
		s.Log.Error("metrics query failed", "err", err)
		proxy.WriteError(w, http.StatusServiceUnavailable, "metrics_db_unavailable", "the metrics database could not be queried", "")
		return
	}
	defer rows.Close()
	out := []MinuteRow{}
	for rows.Next() {
		var m MinuteRow
		var sum float64
		if err := rows.Scan(&m.Group, &m.API, &m.Minute, &m.Requests, &m.Status2xx, &m.Status4xx, &m.Status5xx, &sum, &m.MaxLatencyMs, &m.BytesOut); err != nil {
			proxy.WriteError(w, http.StatusInternalServerError, "internal", "reading the metrics failed", "")
			return
		}
		if m.Requests > 0 {
			m.AvgLatencyMs = sum / float64(m.Requests)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		proxy.WriteError(w, http.StatusServiceUnavailable, "metrics_db_unavailable", "the metrics database could not be queried", "")
		return
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
