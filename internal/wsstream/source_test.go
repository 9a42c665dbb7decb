package wsstream_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// odd converts the events with an odd number and leaves the others out.
func odd(ev event) (voip.Event, bool) {
	return voip.Event{CallID: strconv.Itoa(ev.N)}, ev.N%2 == 1
}

func TestSourceTakesTheQueueThenTheReader(t *testing.T) {
	t.Parallel()
	more := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		c := accept(w, r)
		if c == nil {
			return
		}
		defer c.CloseNow()
		if writeEvents(c, 0, 4) != nil {
			return
		}
		<-more
		if writeEvents(c, 4, 8) == nil {
			_ = drain(c)
		}
	})
	s := start(t, config(srv.url))
	// Four events wait on Events, unread, when Source is asked for.
	require.Eventually(t, func() bool { return len(s.Events()) == 4 }, waitLimit, time.Millisecond)
	src := s.Source(odd, nil)
	assert.Same(t, src, s.Source(odd, nil), "one source per stream")
	close(more)
	var got []string
	for range 4 {
		got = append(got, recv(t, src.Events()).CallID)
	}
	assert.Equal(t, []string{"1", "3", "5", "7"}, got, "the queue first, in order, then the reader's, converted")
	assert.Empty(t, s.Events(), "nothing more arrives on Events")
	require.NoError(t, src.Close())
	closed(t, src.Events())
	assert.NoError(t, src.Err())
}

func TestSourceOfAStoppedStream(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { serveEvents(w, r, 0, 2) })
	s := start(t, config(srv.url))
	require.Eventually(t, func() bool { return len(s.Events()) == 2 }, waitLimit, time.Millisecond)
	require.NoError(t, s.Close())
	src := s.Source(odd, nil)
	assert.Equal(t, "1", recv(t, src.Events()).CallID, "what was queued still comes")
	closed(t, src.Events())
}

func TestSourceCloseIsTheVendors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { serveEvents(w, r, 0, 0) })
	s := start(t, config(srv.url))
	called := false
	src := s.Source(odd, func() error { called = true; return s.Close() })
	require.NoError(t, src.Close())
	assert.True(t, called)
	closed(t, src.Events())
}
