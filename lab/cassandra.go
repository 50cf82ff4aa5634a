package lab

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"
)

const (
	cassandraUser = "apim"
	// Keyspace and ThrottleKeyspace are the default gateway group's keyspaces.
	Keyspace         = "apim_default"
	ThrottleKeyspace = "apim_default_throttle"
)

// cassandraJVMOptions are what Cassandra 5.0 needs on Java 17 (its jvm17-server.options), plus
// a small heap: three nodes share a 2-core, 24 GiB machine with everything else.
var cassandraJVMOptions = []string{
	"-Xms512m", "-Xmx512m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
	"-Djdk.attach.allowAttachSelf=true",
	"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
	"--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
	"--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
	"--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
	"--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
	"--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
	"--add-exports", "java.sql/java.sql=ALL-UNNAMED",
	"--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
	"--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
	"--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
	"--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
	"--add-opens", "java.base/java.io=ALL-UNNAMED",
	"--add-opens", "java.base/java.nio=ALL-UNNAMED",
	"--add-opens", "java.base/java.util.concurrent=ALL-UNNAMED",
	"--add-opens", "java.base/java.util=ALL-UNNAMED",
	"--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
	"--add-opens", "java.base/java.lang=ALL-UNNAMED",
	"--add-opens", "java.base/java.math=ALL-UNNAMED",
	"--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
	"--add-opens", "java.base/java.net=ALL-UNNAMED",
}

// initialToken spreads n single-token nodes evenly over the Murmur3 ring, so that nodes start
// together with auto_bootstrap off and still own equal ranges.
func initialToken(i, n int) string {
	span := new(big.Int).Lsh(big.NewInt(1), 64)
	t := new(big.Int).Mul(span, big.NewInt(int64(i)))
	t.Div(t, big.NewInt(int64(n)))
	t.Add(t, big.NewInt(math.MinInt64))
	return t.String()
}

func (l *Lab) cassandraComponents(t *tools) []*component {
	hosts := l.opts.cassandraHosts()
	seeds := make([]string, len(hosts))
	for i, h := range hosts {
		seeds[i] = h + ":7000"
	}
	var comps []*component
	for i, host := range hosts {
		name := fmt.Sprintf("cassandra-%d", i+1)
		dir := filepath.Join(l.opts.StateDir, name)
		native := fmt.Sprintf("%s:%d", host, l.opts.CassandraPort)
		jmx := l.opts.ports().CassandraJMXBase + i
		comps = append(comps, &component{
			name: name, group: "cassandra", grace: 30 * time.Second,
			addr:   native,
			listen: []string{native, host + ":7000", fmt.Sprintf("127.0.0.1:%d", jmx)},
			prepare: func(context.Context) error {
				for _, d := range []string{"data", "commitlog", "saved_caches", "hints", "cdc_raw", "logs"} {
					if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
						return err
					}
				}
				yaml := fmt.Sprintf(`# written by apimctl lab
cluster_name: apim-lab
num_tokens: 1
initial_token: %s
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
authenticator: PasswordAuthenticator
authorizer: CassandraAuthorizer
role_manager: CassandraRoleManager
data_file_directories: [%[2]s/data]
commitlog_directory: %[2]s/commitlog
saved_caches_directory: %[2]s/saved_caches
hints_directory: %[2]s/hints
cdc_raw_directory: %[2]s/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "%[3]s"
listen_address: %[4]s
rpc_address: %[4]s
storage_port: 7000
native_transport_port: %[5]d
start_native_transport: true
endpoint_snitch: GossipingPropertyFileSnitch
auto_bootstrap: false
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
`, initialToken(i, len(hosts)), dir, strings.Join(seeds, ","), host, l.opts.CassandraPort)
				if err := os.WriteFile(filepath.Join(dir, "cassandra.yaml"), []byte(yaml), 0o644); err != nil {
					return err
				}
				// Racks are the three zones of the reference architecture.
				rack := fmt.Sprintf("dc=dc1\nrack=zone-%d\n", i+1)
				if err := os.WriteFile(filepath.Join(dir, "rackdc.properties"), []byte(rack), 0o644); err != nil {
					return err
				}
				logback := fmt.Sprintf(`<configuration><appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender"><file>%[1]s/logs/system.log</file><rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy"><fileNamePattern>%[1]s/logs/system.log.%%i</fileNamePattern><minIndex>1</minIndex><maxIndex>3</maxIndex></rollingPolicy><triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy"><maxFileSize>20MB</maxFileSize></triggeringPolicy><encoder><pattern>%%-5level [%%thread] %%date{ISO8601} %%F:%%L - %%msg%%n</pattern></encoder></appender><root level="INFO"><appender-ref ref="FILE"/></root></configuration>`, dir)
				return os.WriteFile(filepath.Join(dir, "logback.xml"), []byte(logback), 0o644)
			},
			command: func() *exec.Cmd {
				args := append([]string{}, cassandraJVMOptions...)
				args = append(args,
					"-Dcassandra.config=file://"+filepath.Join(dir, "cassandra.yaml"),
					"-Dcassandra-rackdc.properties=file://"+filepath.Join(dir, "rackdc.properties"),
					"-Dlogback.configurationFile="+filepath.Join(dir, "logback.xml"),
					"-Dcassandra.logdir="+filepath.Join(dir, "logs"),
					"-Dcassandra.storagedir="+dir,
					"-Dcassandra-foreground=yes",
					"-Dcassandra.jmx.local.port="+strconv.Itoa(jmx),
					"-Dcassandra.superuser_setup_delay_ms=0",
					"-Dcassandra.skip_wait_for_gossip_to_settle=0",
					"-cp", filepath.Join(t.CassandraLib, "*"),
					"org.apache.cassandra.service.CassandraDaemon")
				return exec.Command(t.Java, args...)
			},
			ready: tcpReady(native),
		})
	}
	return comps
}

// bootstrapCassandra makes the cluster what the reference asks for: a password-protected
// login for the gateways, system_auth replicated to every node, and the group's keyspaces at
// SimpleStrategy with RF 3 (or the number of nodes, when fewer). It is idempotent.
func (l *Lab) bootstrapCassandra(ctx context.Context) error {
	hosts := l.opts.cassandraHosts()
	rf := min(3, len(hosts))
	connect := func(user, pass string) (*gocql.Session, error) {
		c := gocql.NewCluster(hosts...)
		c.Port = l.opts.CassandraPort
		c.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: pass}
		c.Timeout, c.ConnectTimeout = 10*time.Second, 5*time.Second
		c.Consistency = gocql.Quorum
		c.DisableInitialHostLookup = false
		return c.CreateSession()
	}
	var s *gocql.Session
	var err error
	firstRun := false
	// The superuser `cassandra` appears a moment after the native port opens; retry.
	deadline := time.Now().Add(90 * time.Second)
	for {
		if s, err = connect(cassandraUser, l.secrets.CassandraPassword); err == nil {
			break
		}
		if s, err = connect("cassandra", "cassandra"); err == nil {
			firstRun = true
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("cassandra: log in to bootstrap: %w", err)
		}
		time.Sleep(2 * time.Second)
	}
	defer s.Close()
	var stmts []string
	// Altering RF is refused while a node (re)joins; only do it when it differs.
	if md, err := s.KeyspaceMetadata("system_auth"); err != nil || fmt.Sprint(md.StrategyOptions["replication_factor"]) != strconv.Itoa(len(hosts)) {
		stmts = append(stmts, fmt.Sprintf(`ALTER KEYSPACE system_auth WITH replication = {'class': 'SimpleStrategy', 'replication_factor': %d}`, len(hosts)))
	}
	stmts = append(stmts,
		fmt.Sprintf(`CREATE ROLE IF NOT EXISTS %s WITH PASSWORD = '%s' AND LOGIN = true AND SUPERUSER = true`, cassandraUser, l.secrets.CassandraPassword),
		fmt.Sprintf(`CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': %d}`, Keyspace, rf),
		fmt.Sprintf(`CREATE KEYSPACE IF NOT EXISTS %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': %d}`, ThrottleKeyspace, rf),
	)
	if firstRun {
		// The well-known default superuser must not stay usable.
		stmts = append(stmts, `ALTER ROLE cassandra WITH PASSWORD = '`+randHex(16)+`'`)
	}
	for _, q := range stmts {
		if err := retryQuery(ctx, s, q); err != nil {
			return fmt.Errorf("cassandra: %s: %w", strings.SplitN(q, " WITH", 2)[0], redact(err, l.secrets.CassandraPassword))
		}
	}
	return nil
}

func retryQuery(ctx context.Context, s *gocql.Session, q string) error {
	var err error
	for i := 0; i < 10; i++ {
		if err = s.Query(q).WithContext(ctx).Exec(); err == nil {
			return nil
		}
		var unavailable *gocql.RequestErrUnavailable
		if !errors.As(err, &unavailable) && !strings.Contains(err.Error(), "timeout") &&
			!strings.Contains(err.Error(), "schema") && !strings.Contains(err.Error(), "not in normal state") &&
			// On a fresh cluster the default superuser's rights reach every node's auth cache
			// a moment after it can log in (seen: "User cassandra has no CREATE permission",
			// and "User cassandra does not have sufficient privileges" on CREATE ROLE).
			!strings.Contains(err.Error(), "has no CREATE permission") &&
			!strings.Contains(err.Error(), "does not have sufficient privileges") {
			return err
		}
		time.Sleep(2 * time.Second)
	}
	return err
}

// redact keeps a password out of an error message that may quote the statement.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "********"))
}
