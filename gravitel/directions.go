package gravitel

import (
	"context"
	"time"

	"github.com/pbxkit/pbxkit/internal/hook"
	"github.com/pbxkit/pbxkit/voip"
)

// outgoingTTL is how long a handler remembers that a call began with
// OUTGOING: longer than calls last, since its history, which ends the
// memory early, may never come.
const outgoingTTL = 4 * time.Hour

// outgoingKey is the memory key of the fact that callID began with
// OUTGOING.
func outgoingKey(callID string) string { return hook.Key(Vendor, "outgoing", []byte(callID)) }

// direct sets ev.Direction from what mem remembers of the call, and
// remembers the call when w is its OUTGOING: the PBX's later events of a
// call (ACCEPTED, COMPLETED, CANCELLED) do not say which way it goes. A
// direction the PBX sent wins.
func direct(ctx context.Context, mem voip.Memory, w *Webhook, ev *voip.Event) error {
	if w.Direction != "" || w.CallID == "" {
		return nil
	}
	switch w.EventType {
	case EventOutgoing:
		_, err := mem.Add(ctx, outgoingKey(w.CallID), "", outgoingTTL)
		return err
	case EventAccepted, EventCompleted, EventCancelled:
		_, out, err := mem.Get(ctx, outgoingKey(w.CallID))
		if err != nil {
			return err
		}
		if out {
			ev.Direction = voip.DirectionOut
		}
	}
	return nil
}

// forgetOutgoing drops what mem remembers of a call whose history arrived:
// it is over.
func forgetOutgoing(ctx context.Context, mem voip.Memory, callID string) error {
	if callID == "" {
		return nil
	}
	return mem.Delete(ctx, outgoingKey(callID))
}
