package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pbxkit/pbxkit/phonet"
)

// fleet is the N subscriptions: N Subscribe streams, or one Hub.
type fleet interface {
	// awaitOne takes one event from every subscription: proof that each is
	// live again.
	awaitOne(ctx context.Context) error
	// consume starts reading every subscription's events, counting them in
	// n, until the fleet is closed.
	consume(n *atomic.Uint64)
	dropped() uint64
	close()
}

// openStreams opens n Subscribe streams, a few at a time.
func openStreams(ctx context.Context, c *phonet.Client, n int) (fleet, error) {
	f := &streams{all: make([]*phonet.Stream, n)}
	var (
		wg    sync.WaitGroup
		next  = make(chan int)
		errMu sync.Mutex
		errs  []error
	)
	for range min(64, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				st, err := c.Subscribe(ctx, subscriber(i))
				if err != nil {
					errMu.Lock()
					errs = append(errs, fmt.Errorf("subscription %d: %w", i, err))
					errMu.Unlock()
					continue
				}
				f.all[i] = st
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

type streams struct {
	all       []*phonet.Stream
	consumers sync.WaitGroup
}

func (f *streams) awaitOne(ctx context.Context) error {
	for i, st := range f.all {
		select {
		case _, ok := <-st.Events():
			if !ok {
				return fmt.Errorf("subscription %d stopped: %v", i, st.Err())
			}
		case <-ctx.Done():
			return fmt.Errorf("subscription %d: no event: %w", i, ctx.Err())
		}
	}
	return nil
}

func (f *streams) consume(n *atomic.Uint64) {
	for _, st := range f.all {
		f.consumers.Add(1)
		go func() {
			defer f.consumers.Done()
			for range st.Events() {
				n.Add(1)
			}
		}()
	}
}

func (f *streams) dropped() uint64 {
	var n uint64
	for _, st := range f.all {
		n += st.Dropped()
	}
	return n
}

func (f *streams) close() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256) // each Close waits for a close handshake
	for _, st := range f.all {
		if st == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = st.Close()
		}()
	}
	wg.Wait()
	f.consumers.Wait()
}

// openHub watches the n subscribers with one Hub.
func openHub(ctx context.Context, c *phonet.Client, n int) (fleet, error) {
	subs := make([]string, n)
	for i := range subs {
		subs[i] = subscriber(i)
	}
	h, err := c.Watch(ctx, subs)
	if err != nil {
		return nil, err
	}
	if failed := h.Failed(); len(failed) > 0 {
		_ = h.Close()
		return nil, fmt.Errorf("%d subscribers refused", len(failed))
	}
	return &hub{h: h}, nil
}

type hub struct {
	h         *phonet.Hub
	consumers sync.WaitGroup
}

func (f *hub) awaitOne(ctx context.Context) error {
	want := len(f.h.Subscribers())
	seen := make(map[string]bool, want)
	for len(seen) < want {
		select {
		case ev, ok := <-f.h.Events():
			if !ok {
				return fmt.Errorf("the hub stopped: %v", f.h.Err())
			}
			seen[ev.Subscriber] = true
		case <-ctx.Done():
			return fmt.Errorf("%d of %d subscriptions gave no event: %w", want-len(seen), want, ctx.Err())
		}
	}
	return nil
}

func (f *hub) consume(n *atomic.Uint64) {
	f.consumers.Add(1)
	go func() {
		defer f.consumers.Done()
		for range f.h.Events() {
			n.Add(1)
		}
	}()
}

func (f *hub) dropped() uint64 { return f.h.Dropped() }

func (f *hub) close() {
	_ = f.h.Close()
	f.consumers.Wait()
}
