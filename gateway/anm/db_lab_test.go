package anm

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
	"github.com/apimctl/apimctl/gateway/internal/testpki"
	"github.com/apimctl/apimctl/lab/labtest"
)

// TestMetricsDBTLS opens the lab's MariaDB as the ANM does, in each metricsDB.tls mode: the
// default verifies the server (with the lab's CA it connects over TLS; with the system's CAs,
// another CA or another name it refuses), and only an explicit mode connects unverified or
// in plaintext.
func TestMetricsDBTLS(t *testing.T) {
	env := labtest.Require(t)
	other, err := testpki.NewCA("not the database's CA")
	if err != nil {
		t.Fatal(err)
	}
	otherFile, _ := other.WriteCA(t.TempDir(), "other.crt")
	cipher := func(m *config.MetricsDB) (string, error) {
		db, err := OpenDB(m)
		if err != nil {
			return "", err
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var name, value string
		err = db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &value)
		return value, err
	}
	db := func(tlsc config.TLS) *config.MetricsDB {
		return &config.MetricsDB{Addr: env.MySQLAddr, Database: env.MySQLDatabase, Username: env.MySQLUser, Password: env.MySQLPassword, TLS: tlsc}
	}
	if c, err := cipher(db(config.TLS{CAFile: env.MySQLCAFile()})); err != nil || c == "" {
		t.Fatalf("default mode with the lab's CA: cipher %q, %v", c, err)
	}
	for name, tlsc := range map[string]config.TLS{
		"the system's CAs": {},
		"another CA":       {Mode: config.TLSVerify, CAFile: otherFile},
		"another name":     {Mode: config.TLSVerify, CAFile: env.MySQLCAFile(), ServerName: "db.example"},
	} {
		if _, err := cipher(db(tlsc)); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("verify against %s: %v, want a certificate error", name, err)
		}
	}
	if c, err := cipher(db(config.TLS{Mode: config.TLSInsecure, CAFile: otherFile})); err != nil || c == "" {
		t.Errorf("insecure-skip-verify: cipher %q, %v (want TLS, unverified)", c, err)
	}
	if c, err := cipher(db(config.TLS{Mode: config.TLSDisabled})); err != nil || c != "" {
		t.Errorf("disabled: cipher %q, %v (want plaintext)", c, err)
	}
}
