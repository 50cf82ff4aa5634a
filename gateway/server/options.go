// Package server wires the apigw roles: traffic gateway, API Manager and Admin Node Manager,
// their listeners, prechecks and graceful drain.
package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
)

// Role is what this process runs.
type Role string

// The roles.
const (
	Traffic Role = "traffic"
	APIMgr  Role = "apimgr"
	ANM     Role = "anm"
)

// DefaultPort is the main port of each role, as in the reference architecture.
var DefaultPort = map[Role]int{Traffic: 8065, APIMgr: 8075, ANM: 8090}

// Options are the command-line options of apigw.
type Options struct {
	Role            Role
	PolicyFile      string
	EnvFile         string
	ListenIP        string
	Port            int
	AdminPort       int
	Group           string
	ImageTag        string
	Instance        string
	TLSCert         string
	TLSKey          string
	TLSSelfSigned   bool
	PrecheckTimeout time.Duration
	SkipPrechecks   bool
	DrainDelay      time.Duration
	DrainTimeout    time.Duration
	BodyTimeout     time.Duration
	WriteTimeout    time.Duration
	MemoryLimit     string
	LogLevel        string
	ANMInterval     time.Duration
	PprofAddr       string
}

// errUsage marks errors that should exit with code 2.
var errUsage = errors.New("usage")

// ParseFlags parses args; getenv supplies APIM_GROUP, APIM_IMAGE_TAG and HOSTNAME defaults.
func ParseFlags(args []string, getenv func(string) string, stderr io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("apigw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}
	host, _ := os.Hostname()
	role := fs.String("role", "", "role to run: traffic (port 8065), apimgr (8075) or anm (8090)")
	fs.StringVar(&o.PolicyFile, "pol", "", "policy package (YAML); required for traffic")
	fs.StringVar(&o.EnvFile, "env", "", "environment package (YAML) with ${environment.NAME} references")
	fs.StringVar(&o.ListenIP, "listen-ip", def("APIGW_LISTEN_IP", ""), "address of the main and admin ports (env APIGW_LISTEN_IP; default: every interface, as a pod must answer its Service; 127.0.0.1 for loopback only)")
	fs.IntVar(&o.Port, "port", 0, "main port (default: the role's port)")
	fs.IntVar(&o.AdminPort, "admin-port", 8085, "port of /metrics and /healthcheck")
	fs.StringVar(&o.Group, "group", def("APIM_GROUP", "default"), "gateway group name (env APIM_GROUP)")
	fs.StringVar(&o.ImageTag, "image-tag", def("APIM_IMAGE_TAG", "dev"), "image tag label on every metric (env APIM_IMAGE_TAG)")
	fs.StringVar(&o.Instance, "instance", def("HOSTNAME", host), "this gateway's name in events (default: host name)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate (PEM) for the main port")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS private key (PEM) for the main port")
	fs.BoolVar(&o.TLSSelfSigned, "tls-self-signed", false, "serve TLS with a generated self-signed certificate")
	fs.DurationVar(&o.PrecheckTimeout, "precheck-timeout", 2*time.Minute, "how long to wait for dependencies at startup")
	fs.BoolVar(&o.SkipPrechecks, "skip-prechecks", false, "do not wait for dependencies at startup")
	fs.DurationVar(&o.DrainDelay, "drain-delay", 5*time.Second, "after SIGTERM, keep serving this long with readiness false so endpoints are removed")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", 30*time.Second, "after the delay, how long in-flight requests may take to finish")
	fs.DurationVar(&o.BodyTimeout, "body-timeout", 60*time.Second, "a request body must arrive within this after its header; a slower caller gets 408 and is disconnected")
	fs.DurationVar(&o.WriteTimeout, "write-timeout", 60*time.Second, "each write of a response to a caller must complete within this; a caller that stops reading is disconnected")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "48MiB", "Go soft memory limit (GOMEMLIMIT wins when set; 0 disables)")
	fs.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&o.ANMInterval, "anm-interval", 2*time.Second, "anm: how often the events directory is streamed")
	fs.StringVar(&o.PprofAddr, "pprof-addr", "", "debug: serve net/http/pprof on this address (e.g. 127.0.0.1:6060); off when empty")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	o.Role = Role(*role)
	switch o.Role {
	case Traffic, APIMgr, ANM:
	case "":
		return o, fmt.Errorf("%w: --role is required (traffic, apimgr or anm)", errUsage)
	default:
		return o, fmt.Errorf("%w: unknown role %q (traffic, apimgr or anm)", errUsage, *role)
	}
	if o.Port == 0 {
		o.Port = DefaultPort[o.Role]
	}
	if o.EnvFile == "" {
		return o, fmt.Errorf("%w: --env is required", errUsage)
	}
	if o.Role == Traffic && o.PolicyFile == "" {
		return o, fmt.Errorf("%w: --pol is required for the traffic role", errUsage)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return o, fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	if o.TLSSelfSigned && o.TLSCert != "" {
		return o, fmt.Errorf("%w: choose --tls-self-signed or --tls-cert/--tls-key", errUsage)
	}
	if o.Port < 0 || o.Port > 65535 || o.AdminPort < 0 || o.AdminPort > 65535 {
		return o, fmt.Errorf("%w: ports must be between 0 and 65535", errUsage)
	}
	if o.ListenIP != "" && net.ParseIP(o.ListenIP) == nil {
		return o, fmt.Errorf("%w: --listen-ip %q is not an IP address", errUsage, o.ListenIP)
	}
	if o.Port == o.AdminPort && o.Port != 0 {
		return o, fmt.Errorf("%w: --port and --admin-port must differ", errUsage)
	}
	if o.DrainDelay < 0 || o.DrainTimeout <= 0 || o.PrecheckTimeout <= 0 {
		return o, fmt.Errorf("%w: drain and precheck durations must be positive", errUsage)
	}
	if o.BodyTimeout <= 0 || o.WriteTimeout <= 0 {
		return o, fmt.Errorf("%w: --body-timeout and --write-timeout must be positive", errUsage)
	}
	return o, nil
}

// applyMemoryLimit sets the Go soft memory limit. With a limit the collector works harder as
// the heap nears it instead of letting it double (GOGC=100), which keeps the resident size of
// a busy gateway flat; GOGC stays at its default so light load costs no extra CPU.
func applyMemoryLimit(s string, getenv func(string) string) (int64, error) {
	if getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1), nil
	}
	if s == "" || s == "0" {
		return 0, nil
	}
	b, err := config.ParseByteSize(s)
	if err != nil {
		return 0, fmt.Errorf("--memory-limit: %w", err)
	}
	debug.SetMemoryLimit(int64(b))
	return int64(b), nil
}
