package lab

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// AzuriteVersion is the Azure Storage emulator (npm package azurite) the lab runs as its
// off-site backup location; only its Blob service is started.
const AzuriteVersion = "3.37.0"

// AzureAccount is the storage account Azurite serves in the lab (its key is the lab's own,
// generated like its passwords); AzureContainer is the container backups go to.
const (
	AzureAccount   = "apimctl"
	AzureContainer = "backups"
)

const azuriteName = "azurite"

// ensureAzurite installs Azurite with npm into the cache directory (once per machine) and
// returns node and Azurite's Blob entry point.
func (l *Lab) ensureAzurite(ctx context.Context) (node, blob string, err error) {
	node, err = lookPath("node", "nodejs")
	if err != nil {
		return "", "", fmt.Errorf("azurite needs Node.js, which is not installed: run `make deps` (apt-get install nodejs npm)")
	}
	dir := filepath.Join(l.opts.CacheDir, "azurite-"+AzuriteVersion)
	blob = filepath.Join(dir, "node_modules", "azurite", "dist", "src", "blob", "main.js")
	if fileExists(blob) {
		return node, blob, nil
	}
	npm, err := lookPath("npm")
	if err != nil {
		return "", "", fmt.Errorf("azurite is installed with npm, which is not installed: run `make deps` (apt-get install npm)")
	}
	l.progress("installing azurite %s with npm (once per machine)", AzuriteVersion)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", dir, "--no-audit", "--no-fund", "--omit=dev", "azurite@"+AzuriteVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("npm install azurite: %w\n%s", err, out)
	}
	if !fileExists(blob) {
		return "", "", fmt.Errorf("npm installed azurite without %s", blob)
	}
	return node, blob, nil
}

// azuriteComponent serves Azure Blob Storage on loopback, for the backups' off-site location:
// one account (AzureAccount) with the lab's key, data under the state directory.
func (l *Lab) azuriteComponent(t *tools) *component {
	dir := filepath.Join(l.opts.StateDir, azuriteName)
	addr := fmt.Sprintf("127.0.0.1:%d", l.ports.Azurite)
	return &component{
		name: azuriteName, group: azuriteName, grace: 10 * time.Second,
		addr: "http://" + addr + "/" + AzureAccount, listen: []string{addr},
		prepare: func(context.Context) error { return os.MkdirAll(filepath.Join(dir, "data"), 0o700) },
		command: func() *exec.Cmd {
			cmd := exec.Command(t.Node, t.AzuriteBlob,
				"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(l.ports.Azurite),
				"--location", filepath.Join(dir, "data"), "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl",
				"--disableTelemetry") // loopback only: Azurite would otherwise report usage to the internet
			// The account and key are given in the environment, never on a command line.
			cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS="+AzureAccount+":"+l.secrets.AzuriteKey)
			return cmd
		},
		ready: tcpReady(addr),
	}
}

// azureKey is a storage account key: 64 random bytes, base64, like Azure's own.
func azureKey() string {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// AzureConnectionString is how apimctl reaches the lab's Azurite (it holds the key: shown
// only by `lab env`, like the lab's other passwords).
func (e *Env) AzureConnectionString() string {
	if e.AzureBlobEndpoint == "" {
		return ""
	}
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;", e.AzureAccount, e.AzureKey, e.AzureBlobEndpoint)
}

// AzureConnectionStringFile is the file (0600) holding AzureConnectionString, which Up
// writes: `lab env` exports its path, so the key is never printed.
func (e *Env) AzureConnectionStringFile() string {
	return filepath.Join(e.StateDir, "secrets", "AZURE_STORAGE_CONNECTION_STRING")
}

func writeAzureSecret(e *Env) error {
	if e.AzureBlobEndpoint == "" {
		return nil
	}
	p := e.AzureConnectionStringFile()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(p, []byte(e.AzureConnectionString()), 0o600)
}
