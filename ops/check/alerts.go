package check

import (
	"fmt"

	"github.com/apimctl/apimctl/ops/model"
)

// ruleAlertFiring turns Prometheus's firing alerts into findings, so `check` and the findings
// view mention what the deployment's own alerting says.
var ruleAlertFiring = Rule{"PROM-002", model.SeverityWarning, "No Prometheus alert is firing"}

// alerts adds a finding per firing alert (pending ones are not yet a problem).
func (c *checker) alerts() {
	for _, a := range c.s.Alerts {
		if a.State != model.AlertFiring {
			continue
		}
		subject := a.Subject
		if subject == "" {
			subject = "alert " + a.Name
		}
		msg := fmt.Sprintf("alert %s is firing", a.Name)
		if a.Summary != "" {
			msg += ": " + a.Summary
		}
		c.add(ruleAlertFiring, subject, msg,
			"open it in the console (:alerts, enter opens what it names), or in Prometheus (Alerts); it clears when its condition stops holding")
	}
}
