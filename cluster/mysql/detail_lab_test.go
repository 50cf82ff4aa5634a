package mysql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestProcessListAndTables: the process list shows the statement asking for it, with its
// time; the metrics database's tables have sizes.
func TestProcessListAndTables(t *testing.T) {
	env := labtest.Require(t)
	db, name, err := mysql.OpenJDBC(env.MetricsDBURL(), env.MySQLUser, env.MySQLPassword, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps, err := mysql.ProcessList(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range ps {
		if strings.Contains(p.Info, "PROCESSLIST") && p.User == env.MySQLUser && p.ID > 0 && p.Command == "Query" {
			found = true
		}
	}
	if !found {
		t.Errorf("the asking statement is not in the process list: %+v", ps)
	}
	ts, err := mysql.Tables(ctx, db, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) == 0 {
		t.Fatal("no table in the metrics database")
	}
	for _, tb := range ts {
		if tb.Name == "" || tb.DataBytes <= 0 {
			t.Errorf("table %+v", tb)
		}
	}
}
