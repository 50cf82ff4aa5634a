package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apimctl/apimctl/internal/cql"
)

// EnvironmentPackage is where a deployment environment's dependencies are. Its values are
// usually ${environment.NAME} references filled from the container's environment, so one
// image serves every environment.
type EnvironmentPackage struct {
	Cassandra  *Cassandra  `yaml:"cassandra"`
	MetricsDB  *MetricsDB  `yaml:"metricsDB"`
	ANM        *ANMSetup   `yaml:"anm"`        // Admin Node Manager: where it is, and its API token
	APIManager *Endpoint   `yaml:"apiManager"` // API Manager, waited for by traffic when set
	EventLog   EventLog    `yaml:"eventLog"`
	Upstream   Upstream    `yaml:"upstream"`
	APIMgr     APIMgrSetup `yaml:"apimgr"`

	File  string         `yaml:"-"`
	lines map[string]int `yaml:"-"`
}

// Cassandra is the gateway group's Cassandra cluster and keyspaces.
type Cassandra struct {
	Hosts            string        `yaml:"hosts" cfg:"required"` // comma-separated (CASS_HOST)
	Port             int           `yaml:"port"`                 // CASS_PORT, 9042
	Username         string        `yaml:"username"`
	Password         string        `yaml:"password" cfg:"secret"`
	Keyspace         string        `yaml:"keyspace" cfg:"required"`         // CASS_KEYSPACE
	ThrottleKeyspace string        `yaml:"throttleKeyspace" cfg:"required"` // CASS_TKEYSPACE
	TablePrefix      string        `yaml:"tablePrefix"`                     // apigw_
	Timeout          time.Duration `yaml:"timeout"`                         // per query, 2s
	ConnectTimeout   time.Duration `yaml:"connectTimeout"`                  // 5s
	// TLS to the Cassandra nodes (client_encryption_options); disabled unless set.
	TLS TLS `yaml:"tls"`

	HostList []string `yaml:"-"`
}

// MetricsDB is the RDBMS where the Admin Node Manager keeps traffic aggregates.
type MetricsDB struct {
	URL         string `yaml:"url" cfg:"required"` // jdbc:mysql://host:port/db (METRICS_DB_URL)
	Username    string `yaml:"username"`
	Password    string `yaml:"password" cfg:"secret"`
	TablePrefix string `yaml:"tablePrefix"` // apigw_
	// TLS to the database: verify (the default) checks the server against caFile (the CA
	// from the Secret) or the system's CAs; insecure-skip-verify and disabled must be asked
	// for.
	TLS TLS `yaml:"tls"`

	Addr     string `yaml:"-"` // host:port parsed from URL
	Database string `yaml:"-"`
}

// Endpoint is an HTTP service another role depends on.
type Endpoint struct {
	URL string `yaml:"url" cfg:"required"`
}

// ANMSetup is the Admin Node Manager: where it answers (traffic and apimgr wait for it at
// startup) and, for the anm role itself, the token its monitoring API requires.
type ANMSetup struct {
	URL string `yaml:"url"`
	// TLS is how traffic and apimgr check an https:// url (caFile of the ANM's CA).
	TLS TLS `yaml:"tls"`
	// AdminToken is required by the anm role: its API (/api/topology, /api/metrics) answers
	// only "Authorization: Bearer <token>"; health checks stay open.
	AdminToken string `yaml:"adminToken" cfg:"secret"`
}

// EventLog is the transaction event log in the shared events directory.
type EventLog struct {
	Dir         string   `yaml:"dir"`         // shared events directory; empty disables the log
	MaxDiskSize ByteSize `yaml:"maxDiskSize"` // this gateway's cap on disk, 1GB
	MaxFileSize ByteSize `yaml:"maxFileSize"` // rotate after this size, min(64MB, maxDiskSize/4)
	Buffer      int      `yaml:"buffer"`      // events queued before dropping, 16384
}

// Upstream tunes the connections to backends.
type Upstream struct {
	MaxIdleConnsPerHost int           `yaml:"maxIdleConnsPerHost"` // 512
	IdleConnTimeout     time.Duration `yaml:"idleConnTimeout"`     // 90s
	DialTimeout         time.Duration `yaml:"dialTimeout"`         // 5s
	// MaxResponseHeaderSize bounds a backend's response header (64KB): a larger one is a
	// 502, not memory the gateway holds for it.
	MaxResponseHeaderSize ByteSize `yaml:"maxResponseHeaderSize"`
}

// APIMgrSetup configures the API Manager role.
type APIMgrSetup struct {
	// AdminToken must be sent as "Authorization: Bearer <token>" on the management endpoints
	// (everything but the OAuth token endpoint and health checks). The apimgr role does not
	// start without one: its API creates applications, keys and OAuth clients.
	AdminToken string `yaml:"adminToken" cfg:"secret"`
	// TokenLifetime is the default lifetime of issued OAuth tokens (1h).
	TokenLifetime time.Duration `yaml:"tokenLifetime"`
}

// Line returns the line of a field path in the package file, 0 if unknown.
func (e *EnvironmentPackage) Line(field string) int { return e.lines[field] }

// LoadEnvironmentPackage reads, fills and validates an environment package.
func LoadEnvironmentPackage(file string, lookup Lookup) (*EnvironmentPackage, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read environment package: %w", err)
	}
	return ParseEnvironmentPackage(file, data, lookup)
}

// ParseEnvironmentPackage parses environment package text; file names it in errors.
func ParseEnvironmentPackage(file string, data []byte, lookup Lookup) (*EnvironmentPackage, error) {
	var e EnvironmentPackage
	lines, err := decodeFile(file, data, lookup, &e)
	if err != nil {
		return nil, err
	}
	e.File, e.lines = file, lines
	e.defaults()
	if err := e.validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

func (e *EnvironmentPackage) defaults() {
	if c := e.Cassandra; c != nil {
		if c.Port == 0 {
			c.Port = 9042
		}
		if c.TablePrefix == "" {
			c.TablePrefix = "apigw_"
		}
		if c.Timeout == 0 {
			c.Timeout = 2 * time.Second
		}
		if c.ConnectTimeout == 0 {
			c.ConnectTimeout = 5 * time.Second
		}
		if c.TLS.Mode == "" {
			c.TLS.Mode = TLSDisabled
		}
	}
	if m := e.MetricsDB; m != nil {
		if m.TablePrefix == "" {
			m.TablePrefix = "apigw_"
		}
		if m.TLS.Mode == "" {
			m.TLS.Mode = TLSVerify
		}
	}
	if e.ANM != nil && e.ANM.TLS.Mode == "" {
		e.ANM.TLS.Mode = TLSVerify
	}
	l := &e.EventLog
	if l.MaxDiskSize == 0 {
		l.MaxDiskSize = 1 << 30
	}
	if l.MaxFileSize == 0 {
		l.MaxFileSize = min(64<<20, l.MaxDiskSize/4)
	}
	if l.Buffer == 0 {
		l.Buffer = 16384
	}
	u := &e.Upstream
	if u.MaxIdleConnsPerHost == 0 {
		u.MaxIdleConnsPerHost = 512
	}
	if u.IdleConnTimeout == 0 {
		u.IdleConnTimeout = 90 * time.Second
	}
	if u.DialTimeout == 0 {
		u.DialTimeout = 5 * time.Second
	}
	if u.MaxResponseHeaderSize == 0 {
		u.MaxResponseHeaderSize = 64 << 10
	}
	if e.APIMgr.TokenLifetime == 0 {
		e.APIMgr.TokenLifetime = time.Hour
	}
}

func (e *EnvironmentPackage) validate() error {
	var es Errors
	bad := func(field, format string, args ...any) {
		es = append(es, &FieldError{File: e.File, Field: field, Line: e.lines[field], Msg: fmt.Sprintf(format, args...)})
	}
	if c := e.Cassandra; c != nil {
		for _, h := range strings.Split(c.Hosts, ",") {
			h = strings.TrimSpace(h)
			if h == "" {
				continue
			}
			if strings.ContainsAny(h, " /:") {
				bad("cassandra.hosts", "%q is not a host name or IP address (give the port in cassandra.port)", h)
				continue
			}
			c.HostList = append(c.HostList, h)
		}
		if len(c.HostList) == 0 {
			bad("cassandra.hosts", "no host given")
		}
		if c.Port <= 0 || c.Port > 65535 {
			bad("cassandra.port", "%d is not a TCP port", c.Port)
		}
		if !cql.Identifier(c.Keyspace) {
			bad("cassandra.keyspace", "%q is not a keyspace name", c.Keyspace)
		}
		if !cql.Identifier(c.ThrottleKeyspace) {
			bad("cassandra.throttleKeyspace", "%q is not a keyspace name", c.ThrottleKeyspace)
		}
		if !cql.Identifier(c.TablePrefix) {
			bad("cassandra.tablePrefix", "%q is not a valid table name prefix", c.TablePrefix)
		}
		if c.Timeout <= 0 || c.ConnectTimeout <= 0 {
			bad("cassandra", "timeouts must be positive")
		}
		c.TLS.validate("cassandra.tls", bad)
	}
	if m := e.MetricsDB; m != nil {
		addr, db, err := ParseJDBCURL(m.URL)
		if err != nil {
			bad("metricsDB.url", "%v", err)
		}
		m.Addr, m.Database = addr, db
		if !cql.Identifier(m.TablePrefix) {
			bad("metricsDB.tablePrefix", "%q is not a valid table name prefix", m.TablePrefix)
		}
		m.TLS.validate("metricsDB.tls", bad)
	}
	if e.ANM != nil {
		e.ANM.TLS.validate("anm.tls", bad)
	}
	urls := map[string]string{}
	if e.ANM != nil && e.ANM.URL != "" {
		urls["anm.url"] = e.ANM.URL
	}
	if e.APIManager != nil {
		urls["apiManager.url"] = e.APIManager.URL
	}
	for name, s := range urls {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(name, "%q is not an http(s) URL", RedactURL(s))
		}
	}
	l := &e.EventLog
	if l.MaxDiskSize < 64<<10 {
		bad("eventLog.maxDiskSize", "%d bytes is too small (at least 64KB)", l.MaxDiskSize)
	}
	if l.MaxFileSize < 4<<10 || l.MaxFileSize > l.MaxDiskSize/2 {
		bad("eventLog.maxFileSize", "%d bytes must be between 4KB and half of maxDiskSize", l.MaxFileSize)
	}
	if l.Buffer < 0 {
		bad("eventLog.buffer", "must not be negative")
	}
	if e.Upstream.MaxIdleConnsPerHost < 0 || e.Upstream.IdleConnTimeout < 0 || e.Upstream.DialTimeout < 0 {
		bad("upstream", "values must not be negative")
	}
	if h := e.Upstream.MaxResponseHeaderSize; h < 4<<10 || h > 16<<20 {
		bad("upstream.maxResponseHeaderSize", "%d bytes must be between 4KB and 16MB", h)
	}
	if e.APIMgr.TokenLifetime < time.Second {
		bad("apimgr.tokenLifetime", "%s is too short (at least 1s)", e.APIMgr.TokenLifetime)
	}
	return es.err()
}

// MinAdminTokenLength is the shortest management token a role accepts: 16 characters, as
// `openssl rand -hex 24` gives 48.
const MinAdminTokenLength = 16

// RequireAdminToken checks that the management API of role has a token: the roles with a
// management API never answer it anonymously, so they refuse to start without one. The error
// names the setting, its line, and the Secret and key the reference deployment fills it from.
func (e *EnvironmentPackage) RequireAdminToken(role string) error {
	var field, token, secret, key, what string
	switch role {
	case "apimgr":
		field, token, secret, key = "apimgr.adminToken", e.APIMgr.AdminToken, "apimgr-admin", "APIMGR_ADMIN_TOKEN"
		what = "the API Manager's management API (applications, keys, OAuth clients)"
	case "anm":
		field, secret, key = "anm.adminToken", "anm-admin", "ANM_ADMIN_TOKEN"
		if e.ANM != nil {
			token = e.ANM.AdminToken
		}
		what = "the Admin Node Manager's API (topology, traffic metrics)"
	default:
		return nil
	}
	hint := fmt.Sprintf("set %s: ${environment.%s} from the Secret %s, key %s (generate one with `openssl rand -hex 24`)", field, key, secret, key)
	switch {
	case token == "":
		return &FieldError{File: e.File, Field: field, Line: e.lines[field],
			Msg: fmt.Sprintf("is empty: %s never answers without a token; %s", what, hint)}
	case len(token) < MinAdminTokenLength:
		return &FieldError{File: e.File, Field: field, Line: e.lines[field],
			Msg: fmt.Sprintf("is too short (at least %d characters); %s", MinAdminTokenLength, hint)}
	}
	return nil
}

// ParseJDBCURL returns host:port and database of jdbc:mysql://host[:port]/db[?params]
// (jdbc:mariadb:// too).
func ParseJDBCURL(s string) (addr, database string, err error) {
	shown := RedactURL(s)
	rest, ok := strings.CutPrefix(s, "jdbc:")
	if !ok {
		return "", "", fmt.Errorf("%q is not a JDBC URL (want jdbc:mysql://host:port/database)", shown)
	}
	u, perr := url.Parse(rest)
	if perr != nil || (u.Scheme != "mysql" && u.Scheme != "mariadb") || u.Host == "" {
		return "", "", fmt.Errorf("%q is not a MySQL JDBC URL (want jdbc:mysql://host:port/database)", shown)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "3306"
	}
	if p, perr := strconv.Atoi(port); perr != nil || p <= 0 || p > 65535 {
		return "", "", fmt.Errorf("%q has an invalid port", shown)
	}
	database = strings.Trim(u.Path, "/")
	if database == "" || strings.ContainsAny(database, "/ ") {
		return "", "", fmt.Errorf("%q names no database", shown)
	}
	return net.JoinHostPort(host, port), database, nil
}

// Require reports the sections of e that a role needs and that are missing, naming the file.
func (e *EnvironmentPackage) Require(role string, sections ...string) error {
	var es Errors
	for _, s := range sections {
		missing := false
		switch s {
		case "cassandra":
			missing = e.Cassandra == nil
		case "metricsDB":
			missing = e.MetricsDB == nil
		case "eventLog.dir":
			missing = e.EventLog.Dir == ""
		}
		if missing {
			es = append(es, &FieldError{File: e.File, Field: s, Msg: fmt.Sprintf("is required by the %s role", role)})
		}
	}
	return es.err()
}
