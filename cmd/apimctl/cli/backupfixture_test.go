package cli

import (
	"context"
	"testing"
	"time"

	"github.com/apimctl/apimctl/backup"
)

// writeTestBackup writes a small, valid backup (one MySQL part, uncompressed) named id under
// root, created at the time its ID says.
func writeTestBackup(t *testing.T, root, id string) {
	t.Helper()
	ctx := context.Background()
	created, err := time.Parse("20060102T150405Z", id[:16])
	if err != nil {
		t.Fatal(err)
	}
	w, err := backup.Create(ctx, backup.Dir(root), id, backup.Source{Context: "prod", Namespace: "apim", Tool: "test"}, created)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.Part(ctx, backup.Part{Kind: backup.KindMySQLSchema, Name: "metrics", Path: "mysql/metrics.sql", Database: "metrics"})
	if err != nil {
		t.Fatal(err)
	}
	p.Write([]byte("CREATE TABLE `t` (id INT PRIMARY KEY);\nINSERT INTO `t` VALUES (1);\n"))
	p.Items = 1
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(ctx, created); err != nil {
		t.Fatal(err)
	}
}
