package gravitel

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pbxkit/pbxkit/voip"
)

func TestOutgoingCallsIsBounded(t *testing.T) {
	t.Parallel()
	o := newOutgoingCalls()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range outgoingMax + 10 {
		o.direct(&Webhook{EventType: EventOutgoing, CallID: strconv.Itoa(i), ReceivedAt: start.Add(time.Duration(i) * time.Second)}, &voip.Event{})
	}
	assert.LessOrEqual(t, o.calls.Len(), outgoingMax)

	ev := voip.Event{Direction: voip.DirectionIn}
	newest := start.Add(time.Duration(outgoingMax+9) * time.Second)
	o.direct(&Webhook{EventType: EventAccepted, CallID: strconv.Itoa(outgoingMax + 9), ReceivedAt: newest}, &ev)
	assert.Equal(t, voip.DirectionOut, ev.Direction)

	ev = voip.Event{Direction: voip.DirectionIn}
	o.direct(&Webhook{EventType: EventCompleted, CallID: strconv.Itoa(outgoingMax + 9), ReceivedAt: newest.Add(outgoingTTL)}, &ev)
	assert.Equal(t, voip.DirectionIn, ev.Direction, "an expired entry says nothing")

	o.forget(strconv.Itoa(outgoingMax + 9))
	_, ok := o.calls.Get(strconv.Itoa(outgoingMax+9), newest)
	assert.False(t, ok, "a forgotten call says nothing")
}
