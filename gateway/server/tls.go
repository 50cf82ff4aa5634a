package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"sort"
	"time"

	"github.com/apimctl/apimctl/gateway/config"
)

// tlsConfig returns the main port's TLS configuration, or nil for plain HTTP. TLS 1.2 is the
// minimum, as the reference architecture requires; HTTP/2 is negotiated by ALPN.
func tlsConfig(o Options) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case o.TLSCert != "":
		cert, err = tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate %s / key %s: %w", o.TLSCert, o.TLSKey, err)
		}
	case o.TLSSelfSigned:
		cert, err = selfSigned(o.ListenIP)
		if err != nil {
			return nil, fmt.Errorf("generate self-signed certificate: %w", err)
		}
	default:
		return nil, nil
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

func selfSigned(ip string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "apigw self-signed", Organization: []string{"apigw"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	if p := net.ParseIP(ip); p != nil && !p.IsUnspecified() && !p.Equal(net.ParseIP("127.0.0.1")) {
		tmpl.IPAddresses = append(tmpl.IPAddresses, p)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// keyFilesReadableByOthers returns a warning for each private key file the role reads
// (--tls-key, the client keys of cassandra.tls and metricsDB.tls) that its group or others
// can read: a key should be 0600 (0400 from a Kubernetes Secret: defaultMode).
func keyFilesReadableByOthers(o Options, env *config.EnvironmentPackage) []string {
	files := map[string]string{"--tls-key": o.TLSKey}
	if env.Cassandra != nil {
		files["cassandra.tls.keyFile"] = env.Cassandra.TLS.KeyFile
	}
	if env.MetricsDB != nil {
		files["metricsDB.tls.keyFile"] = env.MetricsDB.TLS.KeyFile
	}
	var out []string
	for what, path := range files {
		if path == "" {
			continue
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			out = append(out, fmt.Sprintf("%s %s is readable by others than its owner (mode %04o); make it 0600", what, path, fi.Mode().Perm()))
		}
	}
	sort.Strings(out)
	return out
}
