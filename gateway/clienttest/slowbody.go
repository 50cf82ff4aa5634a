package clienttest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// SlowBody connects to addr and writes head (a request line and its headers, the blank line
// included, announcing a body of n bytes), then, in the background, the body one byte every
// interval until a write fails. It reads the answer, waiting up to wait, and returns its
// status with a channel that yields how many body bytes were written before a write failed
// (n: the whole body went into an open connection). No connection or no answer fails the
// test; the connection is closed when the test ends.
func SlowBody(t testing.TB, addr, head string, n int, interval, wait time.Duration) (status int, sent <-chan int) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	io.WriteString(conn, head)
	written := make(chan int, 1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := conn.Write([]byte{'x'}); err != nil {
				written <- i
				return
			}
			time.Sleep(interval)
		}
		written <- n
	}()
	conn.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow body: no answer: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, written
}
