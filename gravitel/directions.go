package gravitel

import (
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// outgoingCalls remembers the callids that began with OUTGOING, because the
// PBX's later events of a call (ACCEPTED, COMPLETED, CANCELLED) do not say
// which way it goes. It is bounded: entries expire after outgoingTTL, and
// when it is full the oldest half is dropped, so a PBX that never ends its
// calls cannot grow it without limit.
type outgoingCalls struct {
	mu    sync.Mutex
	calls map[string]time.Time
}

const (
	outgoingTTL = 4 * time.Hour
	outgoingMax = 10_000
)

// direct sets ev.Direction from what the calls seen so far say, and
// remembers or forgets hook's call. A direction the PBX sent wins.
func (o *outgoingCalls) direct(hook *Webhook, ev *voip.Event) {
	if hook.Direction != "" || hook.CallID == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.calls == nil {
		o.calls = make(map[string]time.Time)
	}
	now := hook.ReceivedAt
	switch hook.EventType {
	case EventOutgoing:
		if len(o.calls) >= outgoingMax {
			o.prune(now)
		}
		o.calls[hook.CallID] = now
	case EventAccepted, EventCompleted, EventCancelled:
		if at, ok := o.calls[hook.CallID]; ok && now.Sub(at) < outgoingTTL {
			ev.Direction = voip.DirectionOut
		}
	}
}

// forget drops a call whose history arrived: it is over.
func (o *outgoingCalls) forget(callID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.calls, callID)
}

// prune drops expired entries and, if that is not enough, the older half.
// The caller holds o.mu.
func (o *outgoingCalls) prune(now time.Time) {
	for id, at := range o.calls {
		if now.Sub(at) >= outgoingTTL {
			delete(o.calls, id)
		}
	}
	if len(o.calls) < outgoingMax {
		return
	}
	var sum time.Duration
	for _, at := range o.calls {
		sum += now.Sub(at) / time.Duration(len(o.calls))
	}
	for id, at := range o.calls {
		if now.Sub(at) >= sum {
			delete(o.calls, id)
		}
	}
}
