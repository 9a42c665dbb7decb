package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tracker counts the time two replicas had a socket of one manager
// open, not two sockets of one replica, and the spells without a socket.
func TestTrackerCountsTheOverlap(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	tr.opened("001", "a")
	tr.opened("002", "a")
	tr.opened("002", "a") // a reconnect of one replica: not two replicas
	tr.opened("001", "b")
	held, twice, per := tr.view()
	assert.Equal(t, 2, held)
	assert.Equal(t, 1, twice)
	assert.Equal(t, map[string]int{"a": 3, "b": 1}, per)
	time.Sleep(30 * time.Millisecond)
	tr.closed("001", "a")
	tr.closed("002", "a")
	total, managers, longest, most := tr.overlap()
	assert.GreaterOrEqual(t, total, 30*time.Millisecond)
	assert.Equal(t, total, longest)
	assert.Equal(t, 1, managers)
	assert.Equal(t, 2, most)
	assert.Equal(t, 1, tr.open("001"))

	tr.closed("001", "b")
	require.Len(t, tr.spells(), 1, "a spell without a socket, under way")
	tr.opened("001", "c")
	spells := tr.spells()
	require.Len(t, spells, 1, "ended")
	assert.Equal(t, "001", spells[0].sub)
	tr.closed("001", "c")
	tr.opened("001", "c")
	assert.Len(t, tr.spells(), 2)
	assert.True(t, tr.changedNear("001", time.Now(), time.Second))
	assert.False(t, tr.changedNear("003", time.Now(), time.Second))
}

// count sorts the pushed events by the sockets at the push, and counts
// the losses and the duplicates.
func TestCountSortsTheEvents(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	long := time.Now().Add(-time.Minute)
	tr.opened("002", "a") // a change now, not near the pushes a minute ago
	ledger := map[string]pushed{
		"c1 start":  {sub: "001", at: long, sockets: 1},
		"c1 end":    {sub: "001", at: long, sockets: 1},
		"c2 start":  {sub: "001", at: long, sockets: 0},
		"c3 start":  {sub: "002", at: time.Now(), sockets: 0},
		"c4 answer": {sub: "001", at: long, sockets: 1},
	}
	got := map[string]int{"c1 start": 2, "c1 end": 1, "c3 start": 1, "c9 end": 1}
	c := count(ledger, 4, got, 5, tr, settle)
	assert.Equal(t, 5, c.pushed)
	assert.Equal(t, 3, c.deliverable)
	assert.Equal(t, 2, c.delivered)
	assert.Equal(t, 1, c.lost(), "c4 answer")
	assert.Equal(t, 1, c.noSocket)
	assert.Equal(t, 1, c.atChange)
	assert.Equal(t, 1, c.atChangeDelivered)
	assert.Equal(t, 1, c.duplicates)
	assert.Equal(t, 1, c.unknown)
}
