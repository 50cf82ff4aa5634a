package inspect

import (
	"context"
	"errors"
	"time"

	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/ops/model"
)

const mysqlTimeout = 5 * time.Second

// statementWidth is how much of a statement the detail keeps: a line of a wide terminal.
const statementWidth = 200

// MySQL drills into the metrics database: its state (reachability, version, connections,
// TLS, replication and its lag), the process list in on-call order with each statement on one
// line and credentials masked, and the tables by size. An unreachable database is an error;
// a part that cannot be read is a problem of the detail.
func (i *Inspector) MySQL(ctx context.Context) (*model.MySQLDetail, error) {
	t := i.Conn.Targets
	if t.MetricsDBURL == "" {
		return nil, errors.New("no metrics database URL: set --metrics-db-url or METRICS_DB_URL, or create the metrics-db-credentials Secret")
	}
	db, name, err := mysql.OpenJDBC(t.MetricsDBURL, t.MetricsDBUser, t.MetricsDBPassword, mysqlTimeout)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*mysqlTimeout)
	defer cancel()
	st, err := mysql.ReadStatus(ctx, db, name)
	if err != nil {
		return nil, err
	}
	d := &model.MySQLDetail{Database: name, State: model.MySQLState{Reachable: true, Version: st.Version, Uptime: st.Uptime,
		ThreadsConnected: st.ThreadsConnected, MaxConnections: st.MaxConnections,
		TLS: st.TLSVersion != "", TLSVersion: st.TLSVersion, DatabaseSizeBytes: st.DatabaseSize}}
	if r := st.Replica; r != nil {
		d.State.Replica = &model.ReplicaState{IORunning: r.IORunning, SQLRunning: r.SQLRunning, LagSeconds: r.LagSeconds, LastError: r.LastError}
	}
	if ps, err := mysql.ProcessList(ctx, db); err != nil {
		d.Problems = append(d.Problems, err.Error())
	} else {
		for _, p := range ps {
			d.Connections = append(d.Connections, model.MySQLConnection{ID: p.ID, User: p.User, Host: p.Host, DB: p.DB,
				Command: p.Command, Time: p.Time, State: p.State, Info: model.StatementLine(p.Info, statementWidth)})
		}
		model.SortConnections(d.Connections)
	}
	if ts, err := mysql.Tables(ctx, db, name); err != nil {
		d.Problems = append(d.Problems, err.Error())
	} else {
		for _, tb := range ts {
			d.Tables = append(d.Tables, model.TableSize{Name: tb.Name, Rows: tb.Rows, DataBytes: tb.DataBytes, IndexBytes: tb.IndexBytes})
		}
		model.SortTables(d.Tables)
	}
	return d, nil
}
