package model

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Primary and DR side by side: two (or more) sites — each a kube context with its own data
// stores — compared: which one serves, the newest restorable backup of each and its age, the
// gateways' images and the Cassandra schema that differ between them, and the findings that
// say whether the DR site is ready to take over.

// Site is one site as observed, with the keyspaces its gateway group uses (CASS_KEYSPACE,
// CASS_TKEYSPACE of its Secret: a DR site may name them differently).
type Site struct {
	Context          string
	Snapshot         Snapshot
	Keyspace         string
	ThrottleKeyspace string
}

// BackupRef is a complete backup as a site comparison needs it.
type BackupRef struct {
	ID      string    `json:"id"`
	Context string    `json:"context"` // the site it was taken from
	Created time.Time `json:"created"`
}

// SiteSummary is one site at a glance.
type SiteSummary struct {
	Context string  `json:"context"`
	Health  Health  `json:"health"`
	Serving bool    `json:"serving"`
	RPS     float64 `json:"rps"`
	// Images maps "role/group" to the image it runs.
	Images map[string]string `json:"images"`
	// NewestBackup is the newest complete backup taken from this site (nil: none).
	NewestBackup *BackupRef `json:"newestBackup,omitempty"`
	// BackupAge is how old it is, in seconds (0 without one).
	BackupAgeSeconds float64 `json:"backupAgeSeconds,omitempty"`
}

// Drift is one thing that differs between the sites: what, and each site's value.
type Drift struct {
	What   string            `json:"what"` // "image traffic/default", "tables of the keyspace"
	Values map[string]string `json:"values"`
}

// SiteComparison is the sites side by side.
type SiteComparison struct {
	Sites       []SiteSummary `json:"sites"`
	ImageDrift  []Drift       `json:"imageDrift"`
	SchemaDrift []Drift       `json:"schemaDrift"`
	Findings    []Finding     `json:"findings"`
}

// servingRPS is the traffic above which a site counts as serving.
const servingRPS = 0.1

// MaxBackupAge is how old the newest restorable backup of the serving site may be before the
// DR readiness check warns (the reference architecture backs up daily).
const MaxBackupAge = 26 * time.Hour

// CompareSites sets the sites side by side; backups are the complete backups of the backup
// location (of any site).
func CompareSites(sites []Site, backups []BackupRef, now time.Time) SiteComparison {
	var c SiteComparison
	for _, s := range sites {
		sum := SiteSummary{Context: s.Context, Health: Verdict(s.Snapshot), Images: siteImages(s.Snapshot)}
		for _, g := range s.Snapshot.Traffic.Groups {
			sum.RPS += g.RPS
		}
		sum.Serving = sum.RPS >= servingRPS
		for i := range backups {
			b := backups[i]
			if b.Context == s.Context && (sum.NewestBackup == nil || b.Created.After(sum.NewestBackup.Created)) {
				sum.NewestBackup = &b
			}
		}
		if sum.NewestBackup != nil {
			sum.BackupAgeSeconds = now.Sub(sum.NewestBackup.Created).Seconds()
		}
		c.Sites = append(c.Sites, sum)
	}
	// Only what was read is compared: an unreachable site is a finding of its own, not drift.
	var kubeRead []SiteSummary
	var cassRead []Site
	for i, s := range sites {
		if s.Snapshot.Source(SourceKube).Synced {
			kubeRead = append(kubeRead, c.Sites[i])
		}
		if s.Snapshot.Source(SourceCassandra).Synced {
			cassRead = append(cassRead, s)
		}
	}
	c.ImageDrift = imageDrift(kubeRead)
	c.SchemaDrift = schemaDrift(cassRead)
	c.Findings = siteFindings(sites, c, now)
	return c
}

func siteImages(s Snapshot) map[string]string {
	out := map[string]string{}
	for _, w := range s.Topology.ANM {
		out[RoleANM] = w.Image
	}
	for _, g := range s.Topology.Groups {
		for _, w := range g.APIManager {
			out[RoleAPIManager+"/"+g.Name] = w.Image
		}
		for _, w := range g.Traffic {
			out[RoleTraffic+"/"+g.Name] = w.Image
		}
	}
	return out
}

// imageDrift compares the images by role and group (a registry prefix that differs only by
// the DR registry still counts: a DR site must run what the primary runs, from its own
// registry, so the comparison is by repository path and tag).
func imageDrift(sites []SiteSummary) []Drift {
	if len(sites) < 2 {
		return nil
	}
	keys := map[string]bool{}
	for _, s := range sites {
		for k := range s.Images {
			keys[k] = true
		}
	}
	var out []Drift
	for _, k := range sortedKeys(keys) {
		vals := map[string]string{}
		seen := map[string]bool{}
		for _, s := range sites {
			img := s.Images[k]
			vals[s.Context] = img
			seen[imageWithoutRegistry(img)] = true
		}
		if len(seen) > 1 {
			out = append(out, Drift{What: "image " + k, Values: vals})
		}
	}
	return out
}

// imageWithoutRegistry is the repository path and tag of an image, without its registry
// host ("reg.dr:5000/apim/gateway:7.7" → "apim/gateway:7.7").
func imageWithoutRegistry(img string) string {
	if img == "" {
		return ""
	}
	first, rest, ok := strings.Cut(img, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return rest
	}
	return img
}

// schemaDrift compares the tables of each site's group keyspace and throttle keyspace.
func schemaDrift(sites []Site) []Drift {
	if len(sites) < 2 {
		return nil
	}
	var out []Drift
	for _, role := range []string{"keyspace", "throttle keyspace"} {
		vals := map[string]string{}
		seen := map[string]bool{}
		for _, s := range sites {
			name := s.Keyspace
			if role == "throttle keyspace" {
				name = s.ThrottleKeyspace
			}
			v := "(none)"
			for _, k := range s.Snapshot.Cassandra.Keyspaces {
				if k.Name == name && name != "" {
					v = strings.Join(k.Tables, ",")
				}
			}
			vals[s.Context] = v
			seen[v] = true
		}
		if len(seen) > 1 {
			out = append(out, Drift{What: "tables of the " + role, Values: vals})
		}
	}
	return out
}

// DR readiness rules.
const (
	DRUnreachable  = "APIM-DR-001"
	DRNoBackup     = "APIM-DR-002"
	DROldBackup    = "APIM-DR-003"
	DRImageDrift   = "APIM-DR-004"
	DRSchemaDrift  = "APIM-DR-005"
	DRServing      = "APIM-DR-006"
	DRStandbyError = "APIM-DR-007"
)

func siteFindings(sites []Site, c SiteComparison, now time.Time) []Finding {
	var f []Finding
	add := func(id string, sev Severity, subject, msg, fix string) {
		f = append(f, Finding{ID: id, Severity: sev, Subject: subject, Message: msg, Fix: fix})
	}
	serving := 0
	for i, s := range c.Sites {
		if !sites[i].Snapshot.Source(SourceKube).Synced {
			add(DRUnreachable, SeverityError, "site "+s.Context, "the site's Kubernetes API could not be read: "+sites[i].Snapshot.Source(SourceKube).Error,
				"check the kube context "+s.Context)
			continue
		}
		if s.Serving {
			serving++
		}
		if s.Health == Degraded && !s.Serving {
			add(DRStandbyError, SeverityWarning, "site "+s.Context, "the standby site is degraded: it may not take over cleanly",
				"apimctl --context "+s.Context+" check")
		}
	}
	switch serving {
	case 0:
		add(DRServing, SeverityWarning, "sites", "no site serves traffic now", "check the ingress and the traffic gateways of the primary")
	case 1:
	default:
		add(DRServing, SeverityInfo, "sites", fmt.Sprintf("%d sites serve traffic (active-active, or a failover under way)", serving), "make sure the DNS points where you mean it to")
	}
	// The serving site (else the first) must have a restorable backup, fresh enough.
	primary := 0
	for i, s := range c.Sites {
		if s.Serving {
			primary = i
			break
		}
	}
	if len(c.Sites) > 0 {
		p := c.Sites[primary]
		switch {
		case p.NewestBackup == nil:
			add(DRNoBackup, SeverityError, "site "+p.Context, "no complete backup of the primary site: the DR site has nothing to restore",
				"apimctl --context "+p.Context+" backup create (and schedule it)")
		case now.Sub(p.NewestBackup.Created) > MaxBackupAge:
			add(DROldBackup, SeverityWarning, "site "+p.Context,
				fmt.Sprintf("the newest backup of the primary (%s) is %s old: a restore would lose more than a day", p.NewestBackup.ID, now.Sub(p.NewestBackup.Created).Round(time.Minute)),
				"apimctl --context "+p.Context+" backup create; check the backup schedule")
		}
	}
	for _, d := range c.ImageDrift {
		add(DRImageDrift, SeverityWarning, d.What, "the sites run different gateway images: "+driftValues(d), "roll the DR site to the primary's image (apimctl --context DR rollout set-image …)")
	}
	for _, d := range c.SchemaDrift {
		add(DRSchemaDrift, SeverityWarning, d.What, "the sites' Cassandra schemas differ: "+driftValues(d), "restore the schema on the DR site from the newest backup (apimctl backup restore --only cassandra)")
	}
	return f
}

func driftValues(d Drift) string {
	var parts []string
	for _, k := range sortedKeys(d.Values) {
		parts = append(parts, k+" "+noneIfEmpty(d.Values[k]))
	}
	return strings.Join(parts, "; ")
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
