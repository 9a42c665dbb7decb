package gravitel

import (
	"time"

	"github.com/pbxkit/pbxkit/internal/ttlset"
	"github.com/pbxkit/pbxkit/voip"
)

// outgoingCalls remembers the callids that began with OUTGOING, because the
// PBX's later events of a call (ACCEPTED, COMPLETED, CANCELLED) do not say
// which way it goes. It is bounded: entries expire after outgoingTTL and at
// most outgoingMax are kept, so a PBX that never ends its calls cannot grow
// it without limit.
type outgoingCalls struct {
	calls *ttlset.Set
}

const (
	outgoingTTL = 4 * time.Hour
	outgoingMax = 10_000
)

func newOutgoingCalls() *outgoingCalls {
	return &outgoingCalls{calls: ttlset.New(outgoingMax)}
}

// direct sets ev.Direction from what the calls seen so far say, and
// remembers hook's call. A direction the PBX sent wins.
func (o *outgoingCalls) direct(hook *Webhook, ev *voip.Event) {
	if hook.Direction != "" || hook.CallID == "" {
		return
	}
	switch hook.EventType {
	case EventOutgoing:
		o.calls.Add(hook.CallID, "", outgoingTTL, hook.ReceivedAt)
	case EventAccepted, EventCompleted, EventCancelled:
		if _, ok := o.calls.Get(hook.CallID, hook.ReceivedAt); ok {
			ev.Direction = voip.DirectionOut
		}
	}
}

// forget drops a call whose history arrived: it is over.
func (o *outgoingCalls) forget(callID string) { o.calls.Delete(callID) }
