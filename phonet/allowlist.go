package phonet

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// phonetAddrs are the source addresses Phonet's documentation publishes
// for its webhooks, as two public integrations list them (2019, and again
// in 2026). The list may be stale: check it against your logs.
var phonetAddrs = [...]string{
	"89.184.65.208", "89.184.82.130", "89.184.67.228", "89.184.82.191", "89.184.65.137", "95.213.132.131",
}

// PhonetAddresses returns Phonet's published webhook source addresses, a
// fresh slice each call, for WebhookConfig.AllowFrom.
func PhonetAddresses() []netip.Prefix {
	out := make([]netip.Prefix, len(phonetAddrs))
	for i, a := range phonetAddrs {
		out[i] = netip.PrefixFrom(netip.MustParseAddr(a), 32)
	}
	return out
}

// clientAddr is the address a request came from: the peer, or, when the
// peer is a trusted proxy, the rightmost X-Forwarded-For entry that is not
// a trusted proxy itself. Entries further left were written by the client
// and cannot be trusted.
func clientAddr(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	if !inAny(addr, trusted) {
		return addr, true
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}, false
		}
		a = a.Unmap()
		if !inAny(a, trusted) {
			return a, true
		}
	}
	return addr, true // every hop is a trusted proxy: the request is local
}

func inAny(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
