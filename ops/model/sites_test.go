package model_test

import (
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/ops/model"
	"github.com/apimctl/apimctl/ops/model/modeltest"
)

func TestCompareSites(t *testing.T) {
	now := modeltest.Now
	prod := modeltest.HealthySnapshot(t)
	prod.Context = "prod"
	for i := range prod.Cassandra.Keyspaces {
		prod.Cassandra.Keyspaces[i].Tables = []string{"keys", "apps"}
	}
	dr := modeltest.HealthySnapshot(t)
	dr.Context = "dr"
	dr.Traffic = model.TrafficState{}
	for i := range dr.Cassandra.Keyspaces {
		dr.Cassandra.Keyspaces[i].Tables = []string{"keys", "apps"}
	}
	// The DR site runs the same image from its own registry: no drift.
	for gi := range dr.Topology.Groups {
		for wi := range dr.Topology.Groups[gi].Traffic {
			w := &dr.Topology.Groups[gi].Traffic[wi]
			w.Image = "registry.dr.example:5000/" + w.Image
		}
	}
	sites := []model.Site{{Context: "prod", Snapshot: prod, Keyspace: "apim_default", ThrottleKeyspace: "t_apim_default"},
		{Context: "dr", Snapshot: dr, Keyspace: "apim_default", ThrottleKeyspace: "t_apim_default"}}
	backups := []model.BackupRef{{ID: "b1", Context: "prod", Created: now.Add(-2 * time.Hour)}, {ID: "b0", Context: "prod", Created: now.Add(-50 * time.Hour)}}
	c := model.CompareSites(sites, backups, now)
	if !c.Sites[0].Serving || c.Sites[1].Serving || c.Sites[0].NewestBackup.ID != "b1" || c.Sites[1].NewestBackup != nil {
		t.Fatalf("summaries %+v", c.Sites)
	}
	if len(c.ImageDrift) != 0 || len(c.SchemaDrift) != 0 || len(c.Findings) != 0 {
		t.Fatalf("a ready DR site has drift or findings: %+v %+v %+v", c.ImageDrift, c.SchemaDrift, c.Findings)
	}

	// Drift in images and tables, an old backup.
	dr.Topology.Groups[0].Traffic[0].Image = "apim/gateway:0.9"
	dr.Cassandra.Keyspaces[0].Tables = []string{"keys"}
	sites[1].Snapshot = dr
	c = model.CompareSites(sites, backups[1:], now)
	ids := map[string]bool{}
	for _, f := range c.Findings {
		ids[f.ID] = true
	}
	for _, id := range []string{model.DRImageDrift, model.DRSchemaDrift, model.DROldBackup} {
		if !ids[id] {
			t.Errorf("no %s: %+v", id, c.Findings)
		}
	}
	if len(c.ImageDrift) != 1 || !strings.HasPrefix(c.ImageDrift[0].What, "image traffic/") || c.ImageDrift[0].Values["dr"] != "apim/gateway:0.9" {
		t.Errorf("image drift %+v", c.ImageDrift)
	}
	// No backup at all; the DR site unreachable.
	dr.Sources[0] = model.SourceState{Name: model.SourceKube, Error: "connection refused"}
	sites[1].Snapshot = dr
	c = model.CompareSites(sites, nil, now)
	ids = map[string]bool{}
	for _, f := range c.Findings {
		ids[f.ID] = true
	}
	if !ids[model.DRNoBackup] || !ids[model.DRUnreachable] {
		t.Errorf("findings %+v", c.Findings)
	}
}
