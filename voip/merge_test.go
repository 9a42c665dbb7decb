package voip_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/voip"
)

// fakeSource is a Source a test feeds by hand.
type fakeSource struct {
	events  chan voip.Event
	notices chan voip.Notice
	err     error // set before Close
	once    sync.Once
}

func newFakeSource() *fakeSource {
	return &fakeSource{events: make(chan voip.Event), notices: make(chan voip.Notice, 1)}
}

func (f *fakeSource) Events() <-chan voip.Event   { return f.events }
func (f *fakeSource) Notices() <-chan voip.Notice { return f.notices }
func (f *fakeSource) Err() error                  { return f.err }
func (f *fakeSource) Close() error {
	f.once.Do(func() { close(f.notices); close(f.events) })
	return nil
}

// A merged source that stops for good says so, named, and the others go
// on; the events close once every source has stopped.
func TestMerge(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, b := newFakeSource(), newFakeSource()
	m := voip.Merge(map[string]voip.Source{"ext 101": a, "ext 104": b})

	revoked := errors.New("token revoked")
	a.err = revoked
	a.notices <- voip.Notice{Kind: voip.NoticeStopped, Err: revoked}
	_ = a.Close()
	n := <-m.Notices()
	assert.Equal(t, "ext 101", n.Subscriber)
	assert.Equal(t, voip.NoticeStopped, n.Kind)

	b.notices <- voip.Notice{Kind: voip.NoticeConnected, Subscriber: "named already"}
	assert.Equal(t, "named already", (<-m.Notices()).Subscriber)
	b.events <- voip.Event{CallID: "call-1", Kind: voip.EventStart}
	assert.Equal(t, "call-1", (<-m.Events()).CallID)

	_ = b.Close()
	_, open := <-m.Events()
	assert.False(t, open)
	require.ErrorIs(t, m.Err(), revoked)
	assert.ErrorContains(t, m.Err(), "ext 101: ")
	assert.NoError(t, m.Close())
	assert.NoError(t, m.Close(), "twice")
}

// Close closes every source, running or not.
func TestMergeCloseClosesTheSources(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, b := newFakeSource(), newFakeSource()
	m := voip.Merge(map[string]voip.Source{"a": a, "b": b})
	require.NoError(t, m.Close())
	_, open := <-a.events
	assert.False(t, open)
	_, open = <-b.events
	assert.False(t, open)
}

// One source per operator (a Webitel socket each, say), read as one.
func ExampleMerge() {
	ivan, olena := newFakeSource(), newFakeSource()
	all := voip.Merge(map[string]voip.Source{"ext 101": ivan, "ext 102": olena})
	defer all.Close()

	go func() {
		olena.events <- voip.Event{Kind: voip.EventStart, CallID: "c1", Ext: "102", Client: "+380501234567"}
		_ = olena.Close()
		_ = ivan.Close()
	}()
	for ev := range all.Events() {
		fmt.Println(ev.Kind, ev.CallID, ev.Ext, ev.Client)
	}
	fmt.Println("stopped:", all.Err())
	// Output:
	// start c1 102 +380501234567
	// stopped: <nil>
}
