package check

import (
	"fmt"
	"time"

	"github.com/apimctl/apimctl/ops/model"
)

func (c *checker) sources() {
	present := map[string]bool{}
	for _, src := range c.s.Sources {
		present[src.Name] = true
	}
	mysqlDown := !c.s.MySQL.Reachable
	for _, name := range []string{model.SourceKube, model.SourceCassandra, model.SourceMySQL, model.SourcePrometheus} {
		src := c.s.Source(name)
		subject := "source " + name
		where := name
		if src.Endpoint != "" {
			where += " (" + src.Endpoint + ")"
		}
		last := "never"
		if !src.LastSuccess.IsZero() {
			last = c.s.Taken.Sub(src.LastSuccess).Round(time.Second).String() + " ago"
		}
		switch {
		case src.Error != "" && name == model.SourceMySQL && mysqlDown:
			// SQL-001 says it, with the error.
		case src.Error != "" && name == model.SourceKube:
			c.add(ruleKubeSource, subject, fmt.Sprintf("%s fails: %s (last success %s); topology, pods and ingress "+
				"shown are from then", where, src.Error, last), sourceFix(name, c.ns))
		case src.Error != "" && name == model.SourcePrometheus:
			c.add(rulePromSource, subject, fmt.Sprintf("%s fails: %s (last success %s)", where, src.Error, last),
				sourceFix(name, c.ns))
		case src.Error != "":
			c.add(ruleDataSource, subject, fmt.Sprintf("%s fails: %s (last success %s)", where, src.Error, last),
				sourceFix(name, c.ns))
		case src.Stale:
			c.add(ruleStaleSource, subject, fmt.Sprintf("%s data is stale: last success %s", where, last),
				sourceFix(name, c.ns))
		case !src.Synced:
			msg := where + " has not delivered data yet: its checks are skipped"
			if !present[name] {
				msg = name + " is not observed: its checks are skipped"
			}
			c.add(ruleUnsynced, subject, msg, sourceFix(name, c.ns))
		}
	}
}

func sourceFix(name, ns string) string {
	switch name {
	case model.SourceKube:
		return "check the kubeconfig and context: kubectl -n " + ns + " get deploy,pods; `apimctl status` shows what fails"
	case model.SourceCassandra:
		return "check CASS_HOST/CASS_PORT/CASS_USERNAME in Secret " + ns + "/cassandra-credentials and that port 9042 " +
			"answers from the bastion: cqlsh <host> 9042 -u <user>"
	case model.SourceMySQL:
		return "check METRICS_DB_URL/METRICS_DB_USERNAME in Secret " + ns + "/metrics-db-credentials and that port " +
			"3306 answers from the bastion: mysql -h <host> -u <user> -p"
	default:
		return "check PROMETHEUS_URL (or --prometheus-url) and that curl <url>/api/v1/query?query=up answers"
	}
}
