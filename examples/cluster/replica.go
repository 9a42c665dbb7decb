package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pbxkit/pbxkit/natsjs"
	"github.com/pbxkit/pbxkit/phonet"
)

// replica is what one process of the CRM runs: its own NATS connection,
// a phonet Client and Hub (reaching the emulator through its door), an
// Ownership that opens and closes the Hub's sockets as leases come and
// go, and a Publisher pumping the Hub's events into the stream.
type replica struct {
	name   string
	door   *door
	nc     *nats.Conn
	hub    *phonet.Hub
	pub    *natsjs.Publisher
	own    *natsjs.Ownership
	cancel context.CancelFunc
	pumped chan struct{} // closed when Pump has returned
	dead   bool
}

// setup is what every replica shares.
type setup struct {
	natsURL  string
	domain   string
	apiKey   string
	subs     []string
	ttl      time.Duration
	bucket   string
	stream   natsjs.PublisherConfig
	logger   *slog.Logger
	runLabel string
}

func connect(url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func startReplica(ctx context.Context, s setup, name string, d *door) (*replica, error) {
	nc, js, err := connect(s.natsURL, s.runLabel+"-"+name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r := &replica{name: name, door: d, nc: nc, pumped: make(chan struct{})}
	var rctx context.Context
	rctx, r.cancel = context.WithCancel(ctx)
	fail := func(err error) (*replica, error) {
		r.cancel()
		if r.hub != nil {
			_ = r.hub.Close()
		}
		nc.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	client, err := phonet.New(s.domain, s.apiKey, phonet.WithBaseURL(d.URL()))
	if err != nil {
		return fail(err)
	}
	if r.hub, err = client.Watch(rctx, nil); err != nil {
		return fail(err)
	}
	if r.pub, err = natsjs.NewPublisher(rctx, js, s.stream); err != nil {
		return fail(err)
	}
	src := r.hub.Source()
	go func() {
		defer close(r.pumped)
		_ = r.pub.Pump(rctx, src)
	}()
	r.own, err = natsjs.NewOwnership(rctx, js, natsjs.OwnershipConfig{Bucket: s.bucket, Replica: name, TTL: s.ttl,
		Logger: s.logger}, r.hub, s.subs)
	if err != nil {
		return fail(err)
	}
	return r, nil
}

// kill ends the replica as a crash does: its sockets drop without a
// close frame, its NATS connection goes, and its leases are left to
// expire (Ownership.Close cannot give them back without a connection).
func (r *replica) kill() {
	if r.dead {
		return
	}
	r.dead = true
	r.door.cutOff()
	r.nc.Close()
	r.cancel()
	_ = r.own.Close() // fails: "leases left to expire"
	_ = r.hub.Close()
	<-r.pumped
}
