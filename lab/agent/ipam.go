package agent

import (
	"fmt"
	"net/netip"
	"sync"
)

// ipam hands out pod IPs from a loopback range. It walks the range round-robin so that an
// address freed by a deleted pod is not reused at once (Prometheus and clients may still
// hold it).
type ipam struct {
	mu     sync.Mutex
	prefix netip.Prefix
	used   map[netip.Addr]string // address → pod UID
	next   netip.Addr
}

func newIPAM(p netip.Prefix) (*ipam, error) {
	if !p.Addr().Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(p.Addr()) || p.Bits() < 8 || p.Bits() > 30 {
		return nil, fmt.Errorf("pod IP range %s: want a range inside 127.0.0.0/8", p)
	}
	p = p.Masked()
	return &ipam{prefix: p, used: map[netip.Addr]string{}, next: p.Addr().Next()}, nil
}

// claim records an address already in use (a pod the agent finds at start).
func (a *ipam) claim(ip, uid string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil || !a.prefix.Contains(addr) {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if owner, ok := a.used[addr]; ok && owner != uid {
		return false
	}
	a.used[addr] = uid
	return true
}

func (a *ipam) allocate(uid string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for addr, owner := range a.used {
		if owner == uid {
			return addr.String(), nil
		}
	}
	start := a.next
	for {
		addr := a.next
		a.next = addr.Next()
		if !a.prefix.Contains(a.next) || isBroadcast(a.prefix, a.next) {
			a.next = a.prefix.Addr().Next()
		}
		if _, taken := a.used[addr]; !taken && a.prefix.Contains(addr) && addr != a.prefix.Addr() {
			a.used[addr] = uid
			return addr.String(), nil
		}
		if a.next == start {
			return "", fmt.Errorf("pod IP range %s is exhausted", a.prefix)
		}
	}
}

func (a *ipam) release(ip string) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return
	}
	a.mu.Lock()
	delete(a.used, addr)
	a.mu.Unlock()
}

func isBroadcast(p netip.Prefix, addr netip.Addr) bool {
	b := addr.As4()
	host := 32 - p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	mask := uint32(1)<<host - 1
	return v&mask == mask
}
