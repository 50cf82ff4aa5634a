package backup

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apimctl/apimctl/lab/labtest"
)

// azureLab returns the getenv of the lab's Azurite and a fresh container's location URL.
func azureLab(t *testing.T) (func(string) string, string, map[string]string) {
	t.Helper()
	env := labtest.Require(t)
	if env.AzureBlobEndpoint == "" {
		labtest.Missing(t, "the lab has no azurite component (make lab-up)")
	}
	vars := map[string]string{"AZURE_STORAGE_CONNECTION_STRING": env.AzureConnectionString()}
	return func(k string) string { return vars[k] }, fmt.Sprintf("azure://bk-%d/site/a", time.Now().UnixNano()%1e9), map[string]string{
		"endpoint": env.AzureBlobEndpoint, "account": env.AzureAccount, "key": env.AzureKey}
}

func TestAzureLocation(t *testing.T) {
	getenv, url, _ := azureLab(t)
	ctx := context.Background()
	az, err := OpenLocation(ctx, url, getenv)
	if err != nil {
		t.Fatal(err)
	}
	// Written straight to Azure: a part of several blocks, a small one.
	big := make([]byte, AzureBlockSize*2+12345)
	rand.Read(big)
	at := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	w, err := Create(ctx, az, NewID(at, "apim"), Source{}, at)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"big.bin": big, "small.zst": []byte("hello\n")} {
		p := Part{Kind: "test", Name: name, Path: "x/" + name}
		if strings.HasSuffix(name, ".zst") {
			p.Compression = Zstd
		}
		pw, err := w.Part(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(data)
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, at); err != nil {
		t.Fatal(err)
	}
	m, probs, err := VerifyAt(ctx, az, w.ID())
	if err != nil || len(probs) > 0 {
		t.Fatalf("verify on azure: %v %v", err, probs)
	}
	b, _ := Open(ctx, az, w.ID())
	for _, p := range m.Parts {
		r, err := b.Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || (p.Name == "big.bin" && string(got) != string(big)) || (p.Name == "small.zst" && string(got) != "hello\n") {
			t.Errorf("read back %s: %d bytes, %v", p.Name, len(got), err)
		}
	}

	// A local backup copied off-site, resumably: the second copy sends nothing again.
	local := Dir(t.TempDir())
	at2 := at.Add(24 * time.Hour)
	lw, _ := Create(ctx, local, NewID(at2, "apim"), Source{}, at2)
	for i := range 5 {
		pw, _ := lw.Part(ctx, Part{Kind: "test", Name: "p", Path: fmt.Sprintf("p/%d.zst", i), Compression: Zstd})
		fmt.Fprintf(pw, "part %d\n", i)
		pw.Close()
	}
	lw.Finish(ctx, at2)
	cctx, cancel := context.WithCancel(ctx)
	var sent atomic.Int64
	_, err = Copy(cctx, local, az, lw.ID(), func(p Part, skipped bool) {
		if sent.Add(1) == 2 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("the interrupted copy reported success")
	}
	if l, _ := ListAt(ctx, az); len(l) != 2 || l[0].Complete {
		t.Errorf("after an interrupted copy the off-site backup must be unfinished: %+v", l)
	}
	var skipped int
	if _, err := Copy(ctx, local, az, lw.ID(), func(p Part, s bool) {
		if s {
			skipped++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if skipped < 2 {
		t.Errorf("the resumed copy skipped %d parts already there", skipped)
	}
	all, err := ListAt(ctx, az)
	if err != nil || len(all) != 2 || !all[0].Complete || all[0].ID != lw.ID() {
		t.Fatalf("list on azure: %v %+v", err, all)
	}
	if _, probs, err := VerifyAt(ctx, az, lw.ID()); err != nil || len(probs) > 0 {
		t.Errorf("verify of the copy: %v %v", err, probs)
	}
	drop, err := PrunePlanAt(ctx, az, 1)
	if err != nil || len(drop) != 1 || drop[0].ID != w.ID() {
		t.Fatalf("prune plan on azure: %v %+v", err, drop)
	}
	if err := RemoveAt(ctx, az, w.ID()); err != nil {
		t.Fatal(err)
	}
	if all, _ := ListAt(ctx, az); len(all) != 1 {
		t.Errorf("after prune: %+v", all)
	}
}

func TestAzureBadInput(t *testing.T) {
	_, loc, lab := azureLab(t)
	ctx := context.Background()
	check := func(what string, getenv func(string) string, url string, want string) {
		t.Helper()
		az, err := OpenLocation(ctx, url, getenv)
		if err == nil {
			_, err = ListAt(ctx, az)
			if err == nil {
				_, err = Create(ctx, az, "x", Source{}, time.Now())
				if err == nil {
					w, _ := Create(ctx, az, "x", Source{}, time.Now())
					_, err = w.Finish(ctx, time.Now())
				}
			}
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v (want %q)", what, err, want)
		} else {
			t.Logf("%s: %v", what, err)
		}
		if err != nil && strings.Contains(err.Error(), lab["key"]) {
			t.Errorf("%s: the error shows the account key", what)
		}
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	wrongKey := "A" + lab["key"][1:]
	if wrongKey == lab["key"] {
		wrongKey = "B" + lab["key"][1:]
	}
	check("wrong key", env("AZURE_STORAGE_ACCOUNT", lab["account"], "AZURE_STORAGE_KEY", wrongKey, "AZURE_STORAGE_BLOB_ENDPOINT", lab["endpoint"]), loc, "refused the credentials")
	check("no credentials", env(), loc, "no Azure credentials")
	check("bad container", env(), "azure://Bad_Name/x", "not an Azure container name")
	check("key not base64", env("AZURE_STORAGE_ACCOUNT", "a", "AZURE_STORAGE_KEY", "%%%"), loc, "not a valid account key")
	check("bad connection string", env("AZURE_STORAGE_CONNECTION_STRING", "nonsense "+lab["key"]), loc, "not valid")

	// Azurite down: a loopback port nothing listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	check("azure down", env("AZURE_STORAGE_ACCOUNT", lab["account"], "AZURE_STORAGE_KEY", lab["key"], "AZURE_STORAGE_BLOB_ENDPOINT", "http://"+dead+"/"+lab["account"]), loc, "cannot reach")

	// Answering 500: a loopback proxy in front of Azurite that fails every request.
	target, _ := url.Parse(lab["endpoint"])
	var calls atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "injected", http.StatusInternalServerError)
	}))
	defer proxy.Close()
	check("azure answering 500", env("AZURE_STORAGE_ACCOUNT", lab["account"], "AZURE_STORAGE_KEY", lab["key"], "AZURE_STORAGE_BLOB_ENDPOINT", proxy.URL+target.Path), loc, "answered 500")
	if calls.Load() < 2 {
		t.Errorf("the 500s were not retried (%d calls)", calls.Load())
	}

	// A flaky proxy (every other request fails) is ridden out by the retries.
	var n atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Error(w, "injected", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	az, err := OpenLocation(ctx, loc, env("AZURE_STORAGE_ACCOUNT", lab["account"], "AZURE_STORAGE_KEY", lab["key"], "AZURE_STORAGE_BLOB_ENDPOINT", flaky.URL+target.Path))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Create(ctx, az, "flaky", Source{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := w.Part(ctx, Part{Kind: "t", Name: "a", Path: "a.zst", Compression: Zstd})
	pw.Write([]byte(strings.Repeat("x", 1000)))
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, probs, err := VerifyAt(ctx, az, "flaky"); err != nil || len(probs) > 0 {
		t.Errorf("through a flaky proxy: %v %v", err, probs)
	}
}

// TestRestoreFromAzure restores a database straight from its off-site copy.
func TestRestoreFromAzure(t *testing.T) {
	getenv, url, _ := azureLab(t)
	db, src, dst := mysqlLab(t)
	ctx := context.Background()
	fillMySQL(t, db, src, 300)
	local := Dir(t.TempDir())
	w, _ := Create(ctx, local, "b1", Source{}, time.Now())
	if err := MySQL(ctx, db, src, w, MySQLOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Finish(ctx, time.Now())
	az, err := OpenLocation(ctx, url, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, local, az, "b1", nil); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, az, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MySQLRestore(ctx, db, b, src, dst, MySQLRestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	sameMySQL(t, db, src, dst, "every", "nokey", "big")
}
