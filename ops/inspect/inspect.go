// Package inspect loads the console's drill-downs on demand: a pod described and judged, its
// logs streamed, a Deployment's revisions and its HPA's decisions, a Cassandra node from its
// virtual tables, the metrics database's connections and tables, a traffic series over the
// last minutes from Prometheus range queries. The TUI reaches it through its Inspector
// interface; it reaches the systems through cluster/.
//
// It may import cluster/, ops/model, ops/live and ops/rollout.
package inspect

import (
	"github.com/apimctl/apimctl/ops/live"
)

// Inspector loads drill-downs through a connection.
type Inspector struct {
	Conn *live.Connection
}

// New inspects through conn.
func New(conn *live.Connection) *Inspector { return &Inspector{Conn: conn} }
