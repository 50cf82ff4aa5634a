//go:build unix

package proxy

import (
	"crypto/tls"
	"net"
	"syscall"
)

// alive reports whether a pooled connection is still open: a non-blocking peek that finds
// nothing to read (EAGAIN) means open; end of file means the backend closed it; bytes mean
// the backend sent something nobody asked for. One syscall, spent only on requests that
// cannot be retried on a new connection.
func alive(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, e := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = e == syscall.EAGAIN
		return true
	})
	return err == nil && open
}
