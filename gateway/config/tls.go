package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// TLSMode says how the gateway speaks to a dependency (the metrics database, Cassandra, the
// Admin Node Manager).
type TLSMode string

// The TLS modes. Only verify authenticates the server; the others are explicit weakenings.
const (
	// TLSVerify: TLS, and the server's certificate must chain to caFile (or the system's
	// CAs) and name the server.
	TLSVerify TLSMode = "verify"
	// TLSInsecure: TLS without checking who answers: encrypted, but open to a
	// man-in-the-middle.
	TLSInsecure TLSMode = "insecure-skip-verify"
	// TLSDisabled: plaintext, credentials included.
	TLSDisabled TLSMode = "disabled"
)

// TLS is the client side of a connection to a dependency.
type TLS struct {
	Mode       TLSMode `yaml:"mode"`
	CAFile     string  `yaml:"caFile"`     // PEM bundle the server's certificate must chain to; empty: the system's CAs
	CertFile   string  `yaml:"certFile"`   // client certificate (PEM), when the server asks for one
	KeyFile    string  `yaml:"keyFile"`    // its private key
	ServerName string  `yaml:"serverName"` // the name to verify, when it is not the host of the address
}

func (t *TLS) validate(field string, bad func(field, format string, args ...any)) {
	switch t.Mode {
	case TLSVerify, TLSInsecure, TLSDisabled:
	default:
		bad(field+".mode", "unknown value %q (use verify, insecure-skip-verify or disabled)", t.Mode)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		bad(field, "certFile and keyFile go together")
	}
}

// ClientConfig returns the client TLS configuration, or nil when TLS is disabled. An empty
// mode is the dependency's default (a package loaded from a file has it filled in already).
// field names the setting in errors (e.g. metricsDB.tls). The server name is left empty
// unless set: the drivers fill it in from the address they dial.
func (t *TLS) ClientConfig(field string, defaultMode TLSMode) (*tls.Config, error) {
	mode := t.Mode
	if mode == "" {
		mode = defaultMode
	}
	if mode == TLSDisabled {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: mode == TLSInsecure}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.caFile: %w", field, err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s.caFile %s holds no PEM certificate", field, t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.certFile/keyFile: %w", field, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
