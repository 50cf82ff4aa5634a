package model

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRingOwnership(t *testing.T) {
	// The lab's three single-token nodes: tokens at -2^63, -2^63/3 and +2^63/3.
	ring := []RingNode{
		{Address: "a", DC: "dc1", Tokens: []string{"-9223372036854775808"}},
		{Address: "b", DC: "dc1", Tokens: []string{"-3074457345618258603"}},
		{Address: "c", DC: "dc1", Tokens: []string{"3074457345618258602"}},
	}
	own := RingOwnership(ring)
	for n, want := range map[string]float64{"a": 33.33, "b": 33.33, "c": 33.33} {
		if math.Abs(own[n]-want) > 0.01 {
			t.Errorf("ownership of %s = %.4f, want %.2f", n, own[n], want)
		}
	}
	eff := EffectiveOwnership(ring, "SimpleStrategy", map[string]string{"replication_factor": "3"})
	for n, v := range eff {
		if math.Abs(v-100) > 1e-9 {
			t.Errorf("RF 3 on 3 nodes: %s owns %.4f %%, want 100", n, v)
		}
	}
	eff = EffectiveOwnership(ring, "SimpleStrategy", map[string]string{"replication_factor": "2"})
	if math.Abs(eff["a"]-66.67) > 0.01 {
		t.Errorf("RF 2: a owns %.4f", eff["a"])
	}
	eff = EffectiveOwnership(ring, "NetworkTopologyStrategy", map[string]string{"dc1": "1"})
	if math.Abs(eff["b"]-33.33) > 0.01 {
		t.Errorf("NTS dc1:1: b owns %.4f", eff["b"])
	}
	// Uneven: a owns the range from c's token round to its own.
	uneven := []RingNode{{Address: "a", Tokens: []string{"0"}}, {Address: "b", Tokens: []string{"4611686018427387904"}}}
	own = RingOwnership(uneven)
	if math.Abs(own["a"]-75) > 1e-9 || math.Abs(own["b"]-25) > 1e-9 {
		t.Errorf("uneven ring %v, want a 75 b 25", own)
	}
	if RingOwnership([]RingNode{{Address: "x"}}) != nil {
		t.Error("a node without tokens gives an ownership")
	}
}

func TestPeerState(t *testing.T) {
	for _, tc := range []struct {
		obs, peer, status string
		conn              bool
		state             string
		up                bool
	}{
		{"a", "a", "NORMAL", false, "NORMAL", true},
		{"a", "b", "NORMAL", true, "NORMAL", true},
		{"a", "b", "NORMAL", false, "NORMAL", false},
		{"a", "b", "shutdown", true, "shutdown", false},
		{"a", "b", "", false, "unknown", false},
		{"a", "b", "LEAVING", true, "LEAVING", true},
	} {
		st, up := PeerState(tc.obs, tc.peer, tc.status, tc.conn)
		if st != tc.state || up != tc.up {
			t.Errorf("PeerState(%s sees %s %q, connected %v) = %s %v, want %s %v", tc.obs, tc.peer, tc.status, tc.conn, st, up, tc.state, tc.up)
		}
	}
}

func TestSchemaAgreed(t *testing.T) {
	if !SchemaAgreed("x", "", "x") || SchemaAgreed("x", "y") || SchemaAgreed() || SchemaAgreed("", "") {
		t.Error("schema agreement misjudged")
	}
}

func TestSortThreadPools(t *testing.T) {
	p := []ThreadPool{{Name: "ReadStage"}, {Name: "MutationStage", Pending: 3}, {Name: "Native-Transport-Requests", Active: 1}, {Name: "CompactionExecutor", Blocked: 1}, {Name: "GossipStage"}}
	SortThreadPools(p)
	var names []string
	for _, x := range p {
		names = append(names, x.Name)
	}
	if got := strings.Join(names, " "); got != "CompactionExecutor MutationStage Native-Transport-Requests GossipStage ReadStage" {
		t.Errorf("order %s", got)
	}
}

func TestSortConnections(t *testing.T) {
	cs := []MySQLConnection{
		{ID: 1, Command: "Sleep", Time: 900 * time.Second},
		{ID: 2, Command: "Query", Time: 2 * time.Second, Info: "SELECT 1"},
		{ID: 3, Command: "Query", Time: 40 * time.Second, Info: "SELECT SLEEP(40)"},
		{ID: 4, Command: "Daemon", Time: 9999 * time.Second},
		{ID: 5, Command: "Sleep", Time: 3 * time.Second},
		{ID: 6, Command: "Execute", Time: 2 * time.Second},
	}
	SortConnections(cs)
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	want := []int64{3, 2, 6, 4, 1, 5}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("order %v, want %v", ids, want)
		}
	}
}

func TestStatementLine(t *testing.T) {
	if got := StatementLine("SELECT a,\n\t b\n  FROM   t", 100); got != "SELECT a, b FROM t" {
		t.Errorf("folded: %q", got)
	}
	if got := StatementLine("SELECT 1234567890", 10); got != "SELECT 12…" {
		t.Errorf("cut: %q", got)
	}
	if got := StatementLine("ALTER USER m IDENTIFIED BY 'hunter2'", 100); strings.Contains(got, "hunter2") {
		t.Errorf("a password shows: %q", got)
	}
}

func TestAlignSeries(t *testing.T) {
	start := time.Unix(1000, 0)
	step := 15 * time.Second
	// Samples for steps 2, 3 and 5 (one a little off the grid), one before the window, one
	// infinite.
	ts := []time.Time{start.Add(30 * time.Second), start.Add(45 * time.Second), start.Add(76 * time.Second), start.Add(-time.Minute), start.Add(60 * time.Second)}
	vs := []float64{1, 2, 5, 9, math.Inf(1)}
	s := AlignSeries(start, step, 6, ts, vs)
	want := []float64{math.NaN(), math.NaN(), 1, 2, math.NaN(), 5}
	for i, w := range want {
		if g := s.Values[i]; !(g == w || (math.IsNaN(g) && math.IsNaN(w))) {
			t.Fatalf("values %v, want %v", s.Values, want)
		}
	}
	if s.Last() != 5 || s.Empty() {
		t.Errorf("last %v empty %v", s.Last(), s.Empty())
	}
	if e := AlignSeries(start, step, 4, nil, nil); !e.Empty() || !math.IsNaN(e.Last()) {
		t.Errorf("no samples: %v", e.Values)
	}
	b, err := json.Marshal(s)
	if err != nil || !strings.Contains(string(b), `"values":[null,null,1,2,null,5]`) {
		t.Errorf("JSON %s %v", b, err)
	}
}

func TestIsAPI(t *testing.T) {
	for api, want := range map[string]bool{"payments": true, "anm": false, "apimgr": false, "-": false, "": false} {
		if IsAPI(api) != want {
			t.Errorf("IsAPI(%q) = %v", api, !want)
		}
	}
	if !IsGatewayTraffic("-") || IsGatewayTraffic("anm") {
		t.Error("IsGatewayTraffic")
	}
}

func TestAlertSubject(t *testing.T) {
	for _, tc := range []struct {
		labels  map[string]string
		subject string
		ref     *Ref
	}{
		{map[string]string{"pod": "traffic-x", "namespace": "apim", "group": "default"}, "pod/traffic-x", &Ref{Kind: RefPod, Namespace: "apim", Name: "traffic-x"}},
		{map[string]string{"horizontalpodautoscaler": "traffic", "namespace": "other"}, "hpa/traffic", &Ref{Kind: RefHPA, Namespace: "other", Name: "traffic"}},
		{map[string]string{"deployment": "anm"}, "deployment/anm", &Ref{Kind: RefDeployment, Namespace: "apim", Name: "anm"}},
		{map[string]string{"cassandra_node": "127.0.0.2:9042", "instance": "127.0.0.2:9042"}, "cassandra 127.0.0.2:9042", &Ref{Kind: RefCassandra, Name: "127.0.0.2:9042"}},
		{map[string]string{"group": "default", "api": "payments"}, "traffic default/payments", &Ref{Kind: RefTraffic, Name: "default/payments", Group: "default", API: "payments"}},
		{map[string]string{"group": "default", "api": "anm"}, "traffic default", &Ref{Kind: RefTraffic, Name: "default", Group: "default"}},
		{map[string]string{"node": "apimpool-1"}, "node/apimpool-1", &Ref{Kind: RefNode, Name: "apimpool-1"}},
		{map[string]string{"alertname": "Watchdog"}, "", nil},
	} {
		s, r := AlertSubject(tc.labels, "apim")
		if s != tc.subject || (r == nil) != (tc.ref == nil) || (r != nil && *r != *tc.ref) {
			t.Errorf("AlertSubject(%v) = %q %+v, want %q %+v", tc.labels, s, r, tc.subject, tc.ref)
		}
	}
}

func TestSortAlerts(t *testing.T) {
	t0 := time.Unix(0, 0)
	as := []Alert{
		{Name: "P", State: AlertPending, Severity: "critical", Since: t0},
		{Name: "W", State: AlertFiring, Severity: "warning", Since: t0},
		{Name: "C2", State: AlertFiring, Severity: "critical", Since: t0.Add(time.Minute)},
		{Name: "C1", State: AlertFiring, Severity: "critical", Since: t0},
	}
	SortAlerts(as)
	var got []string
	for _, a := range as {
		got = append(got, a.Name)
	}
	if strings.Join(got, " ") != "C1 C2 W P" {
		t.Errorf("order %v", got)
	}
	if AlertTone(as[0]) != SeverityError || AlertTone(as[2]) != SeverityWarning || AlertTone(as[3]) != SeverityInfo {
		t.Error("tones")
	}
}

func TestTopErrors(t *testing.T) {
	in := []CodeRate{{Code: "4xx", RPS: 0.5}, {Code: "5xx", RPS: 2}, {Code: "other", RPS: 0}, {Code: "rejected", Reason: "key", RPS: math.NaN()}}
	for i := 0; i < 10; i++ {
		in = append(in, CodeRate{Code: "rejected", Reason: string(rune('a' + i)), RPS: 0.1})
	}
	out := TopErrors(in)
	if len(out) != 8 || out[0].Code != "5xx" || out[1].Code != "4xx" || out[2].Reason != "a" {
		t.Errorf("top errors %+v", out)
	}
}

func TestAlertConcerns(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		ns     string
		want   bool
	}{
		{map[string]string{"namespace": "apim"}, "apim", true},
		{map[string]string{"namespace": "dr"}, "apim", false},
		{map[string]string{"cassandra_node": "127.0.0.1:9042"}, "apim", true},
		{map[string]string{"namespace": "dr"}, "", true},
	} {
		if got := AlertConcerns(tc.labels, tc.ns); got != tc.want {
			t.Errorf("AlertConcerns(%v, %q) = %v", tc.labels, tc.ns, got)
		}
	}
}
