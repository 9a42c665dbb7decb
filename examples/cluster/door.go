package main

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// livePath is the emulator's socket endpoint.
const livePath = "/live/connector/v3/easy"

// door is one replica's way to the emulator: a reverse proxy in front of
// it, on an address of its own, that notes every socket it lets through
// in the shared tracker. phonettest counts its sockets but not per
// subscriber, and not over time; the doors do, on the emulator's side of
// each replica's connections. Cutting a door drops its connections
// without a close frame, as the death of the replica's process does.
type door struct {
	replica string
	tr      *tracker
	srv     *httptest.Server
	rp      *httputil.ReverseProxy

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

type markKey struct{}

// mark is set when the emulator accepted a socket's upgrade.
type mark struct {
	mu     sync.Mutex
	opened bool
}

func newDoor(replica, emulator string, tr *tracker) *door {
	target, err := url.Parse(emulator)
	if err != nil {
		panic(err) // the emulator's own URL
	}
	d := &door{replica: replica, tr: tr, conns: map[net.Conn]struct{}{}}
	d.rp = &httputil.ReverseProxy{
		Rewrite:  func(r *httputil.ProxyRequest) { r.SetURL(target) },
		ErrorLog: log.New(io.Discard, "", 0),
		ModifyResponse: func(res *http.Response) error {
			if res.StatusCode != http.StatusSwitchingProtocols {
				return nil
			}
			if m, ok := res.Request.Context().Value(markKey{}).(*mark); ok {
				m.mu.Lock()
				m.opened = true
				m.mu.Unlock()
				d.tr.opened(res.Request.URL.Query().Get("subscriber"), d.replica)
			}
			return nil
		},
	}
	d.srv = httptest.NewUnstartedServer(http.HandlerFunc(d.serve))
	d.srv.Listener = &doorListener{Listener: d.srv.Listener, d: d}
	d.srv.Start()
	return d
}

// URL is what the replica's phonet client takes as its base URL.
func (d *door) URL() string { return d.srv.URL }

// serve proxies a request; a socket is noted open from the emulator's
// 101 until both directions of the proxied connection have ended.
func (d *door) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != livePath {
		d.rp.ServeHTTP(w, r)
		return
	}
	m := &mark{}
	d.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), markKey{}, m)))
	m.mu.Lock()
	opened := m.opened
	m.mu.Unlock()
	if opened {
		d.tr.closed(r.URL.Query().Get("subscriber"), d.replica)
	}
}

// cutOff drops every connection through the door at once and refuses new
// ones until reopen.
func (d *door) cutOff() {
	d.mu.Lock()
	d.cut = true
	conns := make([]net.Conn, 0, len(d.conns))
	for c := range d.conns {
		conns = append(conns, c)
	}
	d.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// reopen lets connections through again: the replica is back.
func (d *door) reopen() {
	d.mu.Lock()
	d.cut = false
	d.mu.Unlock()
}

func (d *door) close() {
	d.cutOff()
	d.srv.Close()
}

type doorListener struct {
	net.Listener
	d *door
}

func (l *doorListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.d.mu.Lock()
		if l.d.cut {
			l.d.mu.Unlock()
			_ = c.Close()
			continue
		}
		dc := &doorConn{Conn: c, d: l.d}
		l.d.conns[dc] = struct{}{}
		l.d.mu.Unlock()
		return dc, nil
	}
}

type doorConn struct {
	net.Conn
	d    *door
	once sync.Once
}

func (c *doorConn) Close() error {
	c.once.Do(func() {
		c.d.mu.Lock()
		delete(c.d.conns, c)
		c.d.mu.Unlock()
	})
	return c.Conn.Close()
}

// tracker is the emulator's view of the sockets: which replica has how
// many sockets of each manager open, every time one opened or closed, and
// how long two replicas or more had one of a manager at once.
type tracker struct {
	mu        sync.Mutex
	sockets   map[string]map[string]int // manager → replica → sockets
	changes   map[string][]time.Time    // manager → when a socket opened or closed
	twiceFrom map[string]time.Time      // managers held by two replicas or more, since
	twice     map[string]time.Duration  // manager → time held twice, ended spells
	most      int                       // most sockets of one manager at once
	downSince map[string]time.Time      // managers whose last socket closed, since
	gaps      []gap                     // spells without a socket, ended
}

// gap is a spell in which a manager that had a socket had none.
type gap struct {
	sub      string
	from, to time.Time
}

func newTracker() *tracker {
	return &tracker{sockets: map[string]map[string]int{}, changes: map[string][]time.Time{},
		twiceFrom: map[string]time.Time{}, twice: map[string]time.Duration{}, downSince: map[string]time.Time{}}
}

func (t *tracker) opened(sub, replica string) { t.change(sub, replica, +1) }
func (t *tracker) closed(sub, replica string) { t.change(sub, replica, -1) }

func (t *tracker) change(sub, replica string, n int) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	byReplica := t.sockets[sub]
	if byReplica == nil {
		byReplica = map[string]int{}
		t.sockets[sub] = byReplica
	}
	byReplica[replica] += n
	if byReplica[replica] <= 0 {
		delete(byReplica, replica)
	}
	t.changes[sub] = append(t.changes[sub], now)
	total := 0
	for _, k := range byReplica {
		total += k
	}
	t.most = max(t.most, total)
	if down, ok := t.downSince[sub]; ok && total > 0 {
		t.gaps = append(t.gaps, gap{sub: sub, from: down, to: now})
		delete(t.downSince, sub)
	} else if total == 0 {
		t.downSince[sub] = now
	}
	since, was := t.twiceFrom[sub]
	switch is := len(byReplica) >= 2; {
	case is && !was:
		t.twiceFrom[sub] = now
	case !is && was:
		t.twice[sub] += now.Sub(since)
		delete(t.twiceFrom, sub)
	}
}

// open returns how many sockets of sub are open.
func (t *tracker) open(sub string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, k := range t.sockets[sub] {
		n += k
	}
	return n
}

// view returns how many managers have a socket open, how many have
// sockets from two replicas or more, and the sockets of each replica.
func (t *tracker) view() (held, twice int, perReplica map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	perReplica = map[string]int{}
	for _, byReplica := range t.sockets {
		if len(byReplica) > 0 {
			held++
		}
		if len(byReplica) > 1 {
			twice++
		}
		for r, k := range byReplica {
			perReplica[r] += k
		}
	}
	return held, twice, perReplica
}

// changedNear says whether a socket of sub opened or closed within d of
// at.
func (t *tracker) changedNear(sub string, at time.Time, d time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.changes[sub] {
		if c.After(at.Add(-d)) && c.Before(at.Add(d)) {
			return true
		}
	}
	return false
}

// overlap returns the time, summed over the managers, that two replicas
// or more had a socket of one manager open at once, how many managers it
// happened to, the longest spell, and the most sockets one manager had
// at once.
func (t *tracker) overlap() (total time.Duration, managers int, longest time.Duration, most int) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	spells := map[string]time.Duration{}
	for sub, d := range t.twice {
		spells[sub] += d
	}
	for sub, since := range t.twiceFrom {
		spells[sub] += now.Sub(since)
	}
	for _, d := range spells {
		total += d
		longest = max(longest, d)
	}
	return total, len(spells), longest, t.most
}

// spells returns the spells without a socket, those still under way
// ending now.
func (t *tracker) spells() []gap {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]gap(nil), t.gaps...)
	for sub, from := range t.downSince {
		out = append(out, gap{sub: sub, from: from, to: now})
	}
	return out
}
