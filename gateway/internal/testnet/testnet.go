// Package testnet serves the gateway's tests' listeners: fake backends and the proxies put
// between a client and a lab node. Everything a test opens with it is closed at the test's end.
package testnet

import (
	"net"
	"sync"
	"testing"
)

// Server is one test listener's accept loop with its connections and goroutines.
type Server struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	open []net.Conn
}

// Accept accepts connections on ln until the test ends, handing each to handle (called in
// the accept loop: it starts what it runs with s.Go). At the test's end it closes ln and
// every connection accepted or tracked, then waits for every goroutine.
func Accept(t testing.TB, ln net.Listener, handle func(s *Server, c net.Conn)) *Server {
	s := &Server{}
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	s.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.Track(c)
			handle(s, c)
		}
	})
	return s
}

// Forward is Accept for a proxy: each accepted connection is paired with a new one to
// target (a refused dial drops the client), and pipe starts the copying with s.Go.
func Forward(t testing.TB, ln net.Listener, target string, pipe func(s *Server, client, server net.Conn)) *Server {
	return Accept(t, ln, func(s *Server, c net.Conn) {
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		s.Track(up)
		pipe(s, c, up)
	})
}

// Track has the test's end close c.
func (s *Server) Track(c net.Conn) {
	s.mu.Lock()
	s.open = append(s.open, c)
	s.mu.Unlock()
}

// Go runs f in a goroutine that the test's end waits for.
func (s *Server) Go(f func()) { s.wg.Go(f) }
