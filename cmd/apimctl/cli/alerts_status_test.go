package cli

import (
	"strings"
	"testing"

	"github.com/apimctl/apimctl/cmd/apimctl/cli/cmdtest"
	"github.com/apimctl/apimctl/ops/model"
)

// TestStatusNamesTheAlerts: status says how many alerts fire and which, most urgent first, in
// one line; without alerts it says nothing of them.
func TestStatusNamesTheAlerts(t *testing.T) {
	e := cmdtest.New(t, false)
	if r := cmd(t, e, "status"); strings.Contains(r.out, "alerts") {
		t.Errorf("no alert, yet:\n%s", r.out)
	}
	e = cmdtest.New(t, false)
	e.Snap.Alerts = []model.Alert{
		{Name: "CassandraNodeDown", State: model.AlertFiring, Subject: "cassandra 127.0.0.3:9042"},
		{Name: "GatewayGroupHighErrorRate", State: model.AlertFiring, Subject: "traffic default"},
		{Name: "GatewayHPAAtMaximum", State: model.AlertPending, Subject: "hpa/traffic"},
		{Name: "Watchdog", State: model.AlertFiring},
	}
	r := cmd(t, e, "status")
	want := "alerts    ✗ 3 firing, 1 pending: CassandraNodeDown cassandra 127.0.0.3:9042, GatewayGroupHighErrorRate traffic default, GatewayHPAAtMaximum hpa/traffic, … 1 more"
	if !strings.Contains(r.out, want) {
		t.Errorf("status lacks\n%s\nin:\n%s", want, r.out)
	}
}
