package natsjs_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/pbxkit/pbxkit/internal/natstest"
	"github.com/pbxkit/pbxkit/natsjs"
)

// sockets stands for a *phonet.Hub: the Target an Ownership opens and
// closes sockets on.
type sockets struct {
	mu   sync.Mutex
	open map[string]bool
}

func (s *sockets) Add(_ context.Context, sub string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open[sub] = true
	return nil
}

func (s *sockets) Remove(sub string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, sub)
}

func (s *sockets) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// Two replicas share six managers' sockets; when one closes, the other
// takes its managers at once. In production each replica is a process
// with its own connection to the NATS cluster, and its Target is its
// phonet.Hub (Client.Watch with no subscribers).
func ExampleNewOwnership() {
	dir, err := os.MkdirTemp("", "owners")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, err := natstest.Start(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()

	ctx := context.Background()
	managers := []string{"001", "002", "003", "004", "005", "006"}
	replica := func(name string) (*natsjs.Ownership, *sockets, func()) {
		nc, err := nats.Connect(srv.URL())
		if err != nil {
			log.Fatal(err)
		}
		js, err := jetstream.New(nc)
		if err != nil {
			log.Fatal(err)
		}
		target := &sockets{open: map[string]bool{}}
		own, err := natsjs.NewOwnership(ctx, js, natsjs.OwnershipConfig{Replica: name, TTL: 2 * time.Second}, target, managers)
		if err != nil {
			log.Fatal(err)
		}
		return own, target, nc.Close
	}
	waitFor := func(cond func() bool) {
		for deadline := time.Now().Add(10 * time.Second); !cond() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}

	a, sa, closeA := replica("a")
	defer closeA()
	defer a.Close()
	waitFor(func() bool { return len(a.Held()) == 6 })
	fmt.Println("a alone holds", len(a.Held()))

	b, sb, closeB := replica("b")
	defer closeB()
	waitFor(func() bool { return len(a.Held()) == 3 && len(b.Held()) == 3 })
	fmt.Println("a and b hold", len(a.Held()), len(b.Held()), "sockets", sa.count(), sb.count())

	if err := b.Close(); err != nil { // hands over
		log.Fatal(err)
	}
	waitFor(func() bool { return len(a.Held()) == 6 })
	fmt.Println("after b closed, a holds", len(a.Held()), "sockets", sa.count(), sb.count())
	// Output:
	// a alone holds 6
	// a and b hold 3 3 sockets 3 3
	// after b closed, a holds 6 sockets 6 0
}
