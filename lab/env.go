package lab

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Env is what a running lab offers to the console, the gateways and the tests: every address is
// on loopback. Lab.Up writes it to env.json in the state directory (mode 0600: it holds the
// lab's passwords); LoadEnv reads it back.
type Env struct {
	StateDir   string `json:"stateDir"`
	Kubeconfig string `json:"kubeconfig"`
	Context    string `json:"context"`
	Namespace  string `json:"namespace"`

	CassandraHosts    []string `json:"cassandraHosts"`
	CassandraPort     int      `json:"cassandraPort"`
	CassandraUser     string   `json:"cassandraUser"`
	CassandraPassword string   `json:"cassandraPassword"`
	Keyspace          string   `json:"keyspace"`
	ThrottleKeyspace  string   `json:"throttleKeyspace"`

	MySQLAddr     string `json:"mysqlAddr"`
	MySQLDatabase string `json:"mysqlDatabase"`
	MySQLUser     string `json:"mysqlUser"`
	MySQLPassword string `json:"mysqlPassword"`

	PrometheusURL string `json:"prometheusURL"`
	RegistryAddr  string `json:"registryAddr"`

	// Azure Blob Storage (Azurite) for off-site backups; empty without the component.
	AzureBlobEndpoint string `json:"azureBlobEndpoint,omitempty"`
	AzureAccount      string `json:"azureAccount,omitempty"`
	AzureKey          string `json:"azureKey,omitempty"`
}

// MetricsDBURL is the JDBC URL the reference architecture's METRICS_DB_URL carries.
func (e *Env) MetricsDBURL() string {
	return fmt.Sprintf("jdbc:mysql://%s/%s", e.MySQLAddr, e.MySQLDatabase)
}

// MySQLCAFile is the lab CA's certificate (PEM), which MariaDB's certificate chains to.
func (e *Env) MySQLCAFile() string { return filepath.Join(e.StateDir, "pki", "ca.crt") }

// MySQLDSN is the go-sql-driver DSN of the metrics user over TCP.
func (e *Env) MySQLDSN() string {
	return fmt.Sprintf("%s:%s@tcp(%s)/%s?timeout=5s&parseTime=true", e.MySQLUser, e.MySQLPassword, e.MySQLAddr, e.MySQLDatabase)
}

// CassandraAddrs returns host:port for every Cassandra node.
func (e *Env) CassandraAddrs() []string {
	out := make([]string, len(e.CassandraHosts))
	for i, h := range e.CassandraHosts {
		out[i] = net.JoinHostPort(h, strconv.Itoa(e.CassandraPort))
	}
	return out
}

// Vars returns the environment variables the reference architecture's gateways read, plus the
// console's own (KUBECONFIG, PROMETHEUS_URL, APIM_REGISTRY) and, with Azurite, the Azure
// storage credentials and the off-site backup location (APIMCTL_AZURE_LOCATION).
func (e *Env) Vars() map[string]string {
	v := map[string]string{
		"KUBECONFIG":          e.Kubeconfig,
		"APIM_NAMESPACE":      e.Namespace,
		"CASS_HOST":           strings.Join(e.CassandraHosts, ","),
		"CASS_PORT":           strconv.Itoa(e.CassandraPort),
		"CASS_USERNAME":       e.CassandraUser,
		"CASS_PASS":           e.CassandraPassword,
		"CASS_KEYSPACE":       e.Keyspace,
		"CASS_TKEYSPACE":      e.ThrottleKeyspace,
		"METRICS_DB_URL":      e.MetricsDBURL(),
		"METRICS_DB_USERNAME": e.MySQLUser,
		"METRICS_DB_PASS":     e.MySQLPassword,
		"PROMETHEUS_URL":      e.PrometheusURL,
		"APIM_REGISTRY":       e.RegistryAddr,
	}
	// The gateways' transaction event files (the reference architecture's shared volume),
	// which `apimctl backup create` then backs up.
	v["APIMCTL_EVENTS_DIR"] = e.EventsDir(e.Namespace)
	if e.AzureBlobEndpoint != "" {
		// The key is not printed: the connection string is in a 0600 file written by Up.
		v["AZURE_STORAGE_CONNECTION_STRING_FILE"] = e.AzureConnectionStringFile()
		v["APIMCTL_AZURE_LOCATION"] = "azure://" + AzureContainer + "/lab"
	}
	return v
}

// EventsDir is where the lab agent keeps the shared events volume of a namespace's
// gateways (an emptyDir named events, one directory per namespace).
func (e *Env) EventsDir(namespace string) string {
	return filepath.Join(e.StateDir, "agent", "shared", namespace, "events")
}

const envFile = "env.json"

// LoadEnv reads the Env a lab wrote to stateDir.
func LoadEnv(stateDir string) (*Env, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, envFile))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("no lab in %s: run `apimctl lab up` first", stateDir)
		}
		return nil, err
	}
	var e Env
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(stateDir, envFile), err)
	}
	return &e, nil
}

func writeEnv(e *Env) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(e.StateDir, envFile), b, 0o600)
}

// DefaultStateDir is where the lab keeps its state unless APIMCTL_LAB_DIR says otherwise:
// $XDG_STATE_HOME/apimctl/lab, else ~/.local/state/apimctl/lab.
func DefaultStateDir() string {
	if d := os.Getenv("APIMCTL_LAB_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "apimctl", "lab")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "apimctl-lab")
	}
	return filepath.Join(home, ".local", "state", "apimctl", "lab")
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
