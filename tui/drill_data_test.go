package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/apimctl/apimctl/ops/model"
)

// alertingSnapshot is the degraded deployment with Prometheus's alerts about it: the
// payments group's 5xx ratio and the down Cassandra node firing, the default HPA pending at
// its maximum, and one alert that names nothing.
func alertingSnapshot() model.Snapshot {
	s := degradedSnapshot()
	s.Alerts = []model.Alert{
		{Name: "GatewayGroupHighErrorRate", State: model.AlertFiring, Severity: "critical", Value: "0.083",
			Summary: "gateway group payments: 8.3% of requests fail with a 5xx", Since: fixedNow.Add(-4 * time.Minute),
			Subject: "traffic payments", Ref: &model.Ref{Kind: model.RefTraffic, Name: "payments", Group: "payments"}},
		{Name: "CassandraNodeDown", State: model.AlertFiring, Severity: "critical",
			Summary: "Cassandra node 127.0.0.3:9042 does not accept connections on its native port", Since: fixedNow.Add(-9 * time.Minute),
			Subject: "cassandra 127.0.0.3:9042", Ref: &model.Ref{Kind: model.RefCassandra, Name: "127.0.0.3:9042"}},
		{Name: "GatewayHPAAtMaximum", State: model.AlertPending, Severity: "warning",
			Summary: "HPA traffic-default runs its maximum of 10 replicas: it cannot scale further", Since: fixedNow.Add(-30 * time.Second),
			Subject: "hpa/traffic-default", Ref: &model.Ref{Kind: model.RefHPA, Namespace: "apim", Name: "traffic-default"}},
		{Name: "Watchdog", State: model.AlertFiring, Severity: "none", Summary: "always firing", Since: fixedNow.Add(-50 * time.Hour)},
	}
	model.SortAlerts(s.Alerts)
	return s
}

// fixtureInspector answers the data drill-downs with fixed details (a unit-test stand-in for
// ops/inspect; the lab test drives the real one). noData empties the traffic series; fail
// makes every call fail.
type fixtureInspector struct {
	noData bool
	fail   error
	calls  int
}

func (f *fixtureInspector) CassandraNode(_ context.Context, addr string) (*model.CassandraNodeDetail, error) {
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	nodes := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}
	host, _, _ := strings.Cut(addr, ":")
	down := host == "127.0.0.3"
	d := &model.CassandraNodeDetail{
		Node:   model.CassandraNode{Address: host + ":9042", DC: "dc1", Rack: "rack" + host[len(host)-1:], Version: "5.0.4", HostID: "c7d8e9f0-3a2b-4c1d-9e8f-7a6b5c4d3e2f", Up: !down},
		Status: "NORMAL", LoadBytes: 91_234_567, Tokens: 16, OwnershipPercent: 33.4, EffectiveOwnershipPercent: 100, EffectiveKeyspace: "apim_default",
		SchemaVersion: "71b39c46-8b4b-342f-af2f-fa4a3f8a8334", SchemaAgreed: true,
	}
	for _, o := range nodes {
		if o == "127.0.0.3" {
			continue
		}
		for _, p := range nodes {
			pv := model.PeerView{Observer: o, Peer: p, State: "NORMAL", Up: true}
			if p == "127.0.0.3" {
				pv.Up = false
			}
			d.Peers = append(d.Peers, pv)
		}
	}
	if down {
		d.Unreachable = "cassandra 127.0.0.3:9042: dial tcp 127.0.0.3:9042: connect: connection refused"
		return d, nil
	}
	d.PendingCompactions = 2
	d.Compactions = []model.Compaction{{Keyspace: "apim_default", Table: "apigw_api_keys", Kind: "Compaction", Percent: 41}}
	d.ThreadPools = []model.ThreadPool{{Name: "MutationStage", Active: 2, Pending: 14}, {Name: "CompactionExecutor", Active: 1, Pending: 2},
		{Name: "ReadStage", Active: 1}, {Name: "GossipStage"}, {Name: "HintsDispatcher", AllTimeBlocked: 3}}
	d.ReadLatencyP99, d.WriteLatencyP99 = 1800*time.Microsecond, 450*time.Microsecond
	d.Tables = []model.TableLatency{{Keyspace: "apim_default", Table: "apigw_api_keys", ReadsPerSecond: 120.5, ReadP99: 1800 * time.Microsecond, WritesPerSec: 2, WriteP99: 450 * time.Microsecond}}
	d.Clients = []model.CassandraClient{{Address: "127.11.0.3", User: "apim", Driver: "gocql v1.7.0", Connections: 2, Requests: 48211},
		{Address: "127.0.0.1", User: "apim", Driver: "gocql v1.7.0", Connections: 1, Requests: 12}}
	d.Problems = []string{"sstable_tasks on 127.0.0.1:9042: unconfigured table sstable_tasks"}
	return d, nil
}

func (f *fixtureInspector) MySQL(context.Context) (*model.MySQLDetail, error) {
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	return &model.MySQLDetail{Database: "metrics",
		State: model.MySQLState{Reachable: true, Version: "10.11.6-MariaDB", Uptime: 76 * time.Hour, ThreadsConnected: 4, MaxConnections: 151, TLS: true, TLSVersion: "TLSv1.3", DatabaseSizeBytes: 48_300_000},
		Connections: []model.MySQLConnection{
			{ID: 41, User: "metrics", Host: "127.11.0.1:51234", DB: "metrics", Command: "Query", Time: 42 * time.Second, State: "Sending data", Info: "SELECT api, SUM(count) FROM apigw_api_minute WHERE minute > NOW() - INTERVAL 1 DAY GROUP BY api"},
			{ID: 57, User: "metrics", Host: "127.0.0.1:40010", DB: "metrics", Command: "Query", Time: 0, State: "executing", Info: "SELECT * FROM information_schema.PROCESSLIST"},
			{ID: 12, User: "metrics", Host: "127.11.0.1:50110", DB: "metrics", Command: "Sleep", Time: 310 * time.Second},
		},
		Tables: []model.TableSize{{Name: "apigw_api_minute", Rows: 120_400, DataBytes: 40_001_536, IndexBytes: 6_307_840}, {Name: "apigw_api_hour", Rows: 2_010, DataBytes: 1_589_248, IndexBytes: 16_384}},
	}, nil
}

func (f *fixtureInspector) Traffic(_ context.Context, group, api string) (*model.TrafficDetail, error) {
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	start := fixedNow.Add(-15 * time.Minute)
	mk := func(base, step float64, gapFrom, gapTo int) model.Series {
		v := make([]float64, 61)
		for i := range v {
			v[i] = base + step*float64(i%9) + step*float64(i)/5
			if i >= gapFrom && i < gapTo || f.noData {
				v[i] = math.NaN()
			}
		}
		return model.Series{Start: start, Step: 15 * time.Second, Values: v}
	}
	d := &model.TrafficDetail{Group: group, API: api, Window: 15 * time.Minute,
		RPS: mk(80, 2, 20, 24), P50: mk(0.02, 0.001, 20, 24), P90: mk(0.09, 0.004, 20, 24), P99: mk(0.2, 0.01, 20, 24), ErrorRatio: mk(0.01, 0.004, 20, 24)}
	if !f.noData {
		d.TopErrors = []model.CodeRate{{Code: "5xx", RPS: 6.6}, {Code: "5xx", Reason: "backend unreachable or failed", RPS: 6.1}, {Code: "rejected", Reason: "throttle rate limit", RPS: 0.4}}
		d.Pods = []model.PodRate{{Namespace: "apim", Pod: "traffic-payments-7d9f8b6c5d-00000", RPS: 51.2, ErrorRatio: 0.12}, {Namespace: "apim", Pod: "traffic-payments-7d9f8b6c5d-00001", RPS: 45.0, ErrorRatio: 0.001}}
	}
	return d, nil
}

// openDataDetail starts the console on snap with ins, types keys, and waits until want shows.
func openDataDetail(t *testing.T, w, h int, snap model.Snapshot, ins any, keys []string, want string) *teatest.TestModel {
	t.Helper()
	tm, _ := startProgram(t, w, h, &snap, Options{Inspector: ins})
	sendKeys(t, tm, keys...)
	waitOutput(t, tm, want)
	return tm
}

// TestGoldenDataDetails renders each data drill-down, and its bad cases, at both sizes.
func TestGoldenDataDetails(t *testing.T) {
	cases := []struct {
		name string
		snap model.Snapshot
		ins  *fixtureInspector
		keys []string
		// want is shown once the detail has loaded: a word without spaces, as the renderer may
		// skip unchanged cells within a line.
		want string
	}{
		{"cassandra-node", healthySnapshot(), &fixtureInspector{}, []string{"text::cassandra", "enter", "enter"}, "71b39c46…"},
		{"cassandra-node-down", degradedSnapshot(), &fixtureInspector{}, []string{"text::cassandra", "enter", "j", "j", "enter"}, "unreachable"},
		{"mysql", healthySnapshot(), &fixtureInspector{}, []string{"text::mysql", "enter", "enter"}, "apigw_api_minute"},
		{"mysql-unreachable", healthySnapshot(), &fixtureInspector{fail: errors.New("dial tcp 127.0.0.1:3306: connect: connection refused")}, []string{"text::mysql", "enter", "enter"}, "refused"},
		{"traffic-group", healthySnapshot(), &fixtureInspector{}, []string{"text::traffic", "enter", "up", "enter"}, "p50"},
		{"traffic-api-no-data", healthySnapshot(), &fixtureInspector{noData: true}, []string{"text::traffic", "enter", "j", "enter"}, "Prometheus"},
	}
	for _, tc := range cases {
		for _, sz := range sizes {
			t.Run(tc.name+"/"+sz.name, func(t *testing.T) {
				tm := openDataDetail(t, sz.w, sz.h, tc.snap, tc.ins, tc.keys, tc.want)
				screen, m := finalScreen(t, tm)
				if len(m.stack) != 1 {
					t.Fatalf("%d details open, want 1", len(m.stack))
				}
				requireFits(t, screen, sz.w, sz.h)
				golden.RequireEqual(t, screen)
			})
		}
	}
}

// TestGoldenAlerts: the alerts view and the dashboard's alerts panel with alerts firing, and
// the view with none.
func TestGoldenAlerts(t *testing.T) {
	for _, fx := range []struct {
		name string
		snap model.Snapshot
		view string
	}{
		{"alerting", alertingSnapshot(), "alerts"},
		{"alerting", alertingSnapshot(), "dashboard"},
		{"quiet", healthySnapshot(), "alerts"},
	} {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%s/%s", fx.name, sz.name, fx.view), func(t *testing.T) {
				screen, m := runKeys(t, sz.w, sz.h, fx.snap, "text::"+fx.view, "enter")
				if got := viewNames[m.active]; got != fx.view {
					t.Fatalf("active view %q", got)
				}
				requireFits(t, screen, sz.w, sz.h)
				golden.RequireEqual(t, screen)
			})
		}
	}
}

// TestAlertsOpenWhatTheyName: enter on an alert opens the detail of the resource it names —
// from the alerts view and from the dashboard's panel; an alert naming nothing, or a kind
// without a detail here, says so and opens nothing.
func TestAlertsOpenWhatTheyName(t *testing.T) {
	snap := alertingSnapshot()
	ins := &fixtureInspector{}
	m := drive(t, 160, 48, &snap, Options{Inspector: ins})
	press(m, "9") // alerts, firing critical first: the oldest is the Cassandra node
	if viewNames[m.active] != "alerts" {
		t.Fatalf("9 went to %s", viewNames[m.active])
	}
	press(m, "enter")
	if d := m.top(); d == nil || d.Crumb() != "127.0.0.3:9042" {
		t.Fatalf("enter on CassandraNodeDown opened %v", d)
	}
	if !strings.Contains(frame(m), "cassandra") || !strings.Contains(frame(m), "127.0.0.3:9042") {
		t.Fatalf("breadcrumb:\n%s", frame(m))
	}
	press(m, "esc", "j", "enter") // the 5xx alert: the payments group's traffic
	if d := m.top(); d == nil || d.Crumb() != "payments" {
		t.Fatalf("enter on the 5xx alert opened %v", d)
	}
	press(m, "esc", "j", "j", "enter") // Watchdog names nothing
	if m.top() != nil {
		t.Fatalf("an alert naming nothing opened %s", m.top().Crumb())
	}
	// The dashboard: one cursor over the topology's rows, then (down past the last) the
	// panel's alerts; enter opens what is under it.
	press(m, "1", "G", "j", "j", "enter")
	if d := m.top(); d == nil || d.Crumb() != "payments" {
		t.Fatalf("dashboard: enter on the second alert opened %v", d)
	}
	press(m, "esc")
	if m.top() != nil || viewNames[m.active] != "dashboard" {
		t.Fatal("esc did not come back to the dashboard")
	}
}

// TestDataDetailsFromTheirViews: the cassandra view's node rows, the mysql view and the
// traffic view's group and API rows open their details; esc comes back; a failed load says
// why and r loads again.
func TestDataDetailsFromTheirViews(t *testing.T) {
	snap := healthySnapshot()
	ins := &fixtureInspector{}
	m := drive(t, 120, 40, &snap, Options{Inspector: ins})
	press(m, "4", "j", "enter")
	d := m.top()
	if d == nil || d.Crumb() != "127.0.0.2" {
		t.Fatalf("cassandra: opened %v", d)
	}
	press(m, "esc", "5", "enter")
	if d := m.top(); d == nil || d.Crumb() != "metrics" {
		t.Fatalf("mysql: opened %v", d)
	}
	press(m, "esc", "6", "enter")
	if d := m.top(); d == nil || d.Crumb() != "default/petstore-v2" {
		t.Fatalf("traffic API row: opened %v", d)
	}
	press(m, "esc", "up", "up", "enter") // above the APIs: the groups, last group first
	if d := m.top(); d == nil || d.Crumb() != "default" {
		t.Fatalf("traffic group row: opened %v", d)
	}
	press(m, "esc", "down", "down", "enter") // back down into the APIs
	if d := m.top(); d == nil || d.Crumb() != "default/petstore-v2" {
		t.Fatalf("back in the APIs: opened %v", d)
	}
	press(m, "esc")

	// A load that fails: the error in the view, r tries again.
	ins.fail = errors.New("prometheus http://127.0.0.1:9090: connection refused")
	press(m, "enter")
	td := m.top().(*trafficDetail)
	m.Update(td.start()())
	if scr := frame(m); !strings.Contains(scr, "✗ prometheus http://127.0.0.1:9090: connection refused") {
		t.Fatalf("error not shown:\n%s", scr)
	}
	ins.fail = nil
	calls := ins.calls
	press(m, "r")
	if td.loading != true {
		t.Fatal("r did not start a reload")
	}
	m.Update(td.start()())
	if ins.calls <= calls || td.d == nil || td.err != nil {
		t.Fatalf("after r: calls %d→%d, data %v err %v", calls, ins.calls, td.d != nil, td.err)
	}
	// Traffic detail: j/k choose a pod; enter opens it when the console has a pod detail.
	press(m, "j")
	if ref, ok := td.Selected(); !ok || ref.Kind != model.RefPod || ref.Name != "traffic-payments-7d9f8b6c5d-00001" || ref.Namespace != "apim" {
		t.Fatalf("chosen pod %+v", ref)
	}
}

func TestSeriesSparkline(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		vals []float64
		w    int
		want string
	}{
		{nil, 10, ""},
		{[]float64{1, 2, 3}, 0, ""},
		{[]float64{0, 7}, 10, "▁▁▁▁▁█████"}, // few points: each widened alike
		{[]float64{0, 7}, 5, "▁▁██"},
		{[]float64{nan, nan, 0, 7}, 5, "  ▁█"},                                  // a gap at the start is blank
		{[]float64{0, 0, 7, 7, nan, nan, 7, 7}, 4, "▁█ █"},                      // means of pairs; an empty pair is blank
		{[]float64{3, 3, 3}, 3, "███"},                                          // scaled from 0: a steady rate fills
		{[]float64{nan, nan}, 2, "  "},                                          // nothing at all
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 7, "▁▂▄▅▆▇█"}, // means 0.5 … 12.5
	} {
		if got := seriesSparkline(tc.vals, tc.w); got != tc.want {
			t.Errorf("seriesSparkline(%v, %d) = %q, want %q", tc.vals, tc.w, got, tc.want)
		}
	}
}

func TestSeriesSparklineIdle(t *testing.T) {
	if got := seriesSparkline([]float64{0, 0, 0}, 3); got != "▁▁▁" {
		t.Errorf("idle: %q", got)
	}
}

// TestTrafficDetailKeepsOneTimer: the traffic detail reloads itself every 15 s with one timer,
// however often r is pressed.
func TestTrafficDetailKeepsOneTimer(t *testing.T) {
	snap := healthySnapshot()
	m := drive(t, 120, 40, &snap, Options{Inspector: &fixtureInspector{}})
	press(m, "6", "enter")
	td := m.top().(*trafficDetail)
	if cmd := td.Loaded(td.start()().(detailMsg)); cmd == nil {
		t.Fatal("the first answer started no timer")
	}
	for range 3 { // r, answered: no second timer
		if cmd := td.Loaded(td.start()().(detailMsg)); cmd != nil {
			t.Fatal("a manual reload started a second timer")
		}
	}
	// The timer fires: a reload, whose answer starts the next timer.
	load := td.Loaded(detailMsg{d: td, data: reloadMsg{}})
	if load == nil {
		t.Fatal("the timer started no reload")
	}
	if cmd := td.Loaded(load().(detailMsg)); cmd == nil {
		t.Fatal("the timed reload's answer started no next timer")
	}
}
