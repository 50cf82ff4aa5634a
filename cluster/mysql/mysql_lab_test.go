package mysql_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/apimctl/apimctl/cluster/mysql"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestClientAgainstTheLab: the happy path (version, connections, TLS in use, the database's
// size), a server that accepts but never answers (the read ends with the target's timeout),
// and a wrong password (error 1045, the password not repeated).
func TestClientAgainstTheLab(t *testing.T) {
	env := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tg := labtest.MySQLTarget(env, env.MySQLDatabase)
	db, err := mysql.Open(tg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := mysql.ReadStatus(ctx, db, env.MySQLDatabase)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(st.Version), "mariadb") || st.ThreadsConnected < 1 || st.MaxConnections < 1 || st.DatabaseSize <= 0 {
		t.Errorf("status %+v", st)
	}
	if st.TLSVersion == "" {
		t.Error("the lab's MariaDB offers TLS; the connection does not use it")
	}

	t.Run("timeout", func(t *testing.T) {
		bad := tg
		bad.Addr, bad.Timeout = labtest.Blackhole(t), 300*time.Millisecond
		db, err := mysql.Open(bad)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := mysql.ReadStatus(ctx, db, env.MySQLDatabase); err == nil {
			t.Fatal("a server that never answers: no error")
		}
		if ctx.Err() != nil {
			t.Error("the read waited for the caller's deadline, not the target's timeout")
		}
	})

	t.Run("auth error", func(t *testing.T) {
		bad := tg
		bad.Password = "not-the-password"
		db, err := mysql.Open(bad)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = mysql.ReadStatus(ctx, db, env.MySQLDatabase)
		var me *gomysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1045 {
			t.Fatalf("a wrong password: %v, want error 1045", err)
		}
		if strings.Contains(err.Error(), bad.Password) {
			t.Error("the error repeats the password")
		}
	})
}
