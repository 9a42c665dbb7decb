package retailcrm

import (
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// CallEventFrom maps a PBX's live event to a call event, for a bridge from
// any voip.Provider to retailCRM. A start is EventIn or EventOut by its
// direction, an end is EventHangup with the status of its disposition
// (Answered, Busy, Cancel, NoAnswer → "no answered", Failed; Unknown is
// HangupFailed, since retailCRM has no unknown). The client is Phone, the
// extension the one Code, the line ExternalPhone, the call id
// CallExternalID.
//
// It returns false for what retailCRM has no event for: an answer, an
// internal call, a start without a direction, an event without the
// client's number. Whether retailCRM wants the event depends on the
// module's *EventSupported flags, which the caller knows.
func CallEventFrom(ev voip.Event) (CallEvent, bool) {
	if ev.Direction == voip.DirectionInternal || strings.TrimSpace(ev.Client) == "" {
		return CallEvent{}, false
	}
	out := CallEvent{Phone: strings.TrimSpace(ev.Client), CallExternalID: ev.CallID, ExternalPhone: ev.Line}
	if ext := strings.TrimSpace(ev.Ext); ext != "" {
		out.Codes = []string{ext}
	}
	switch ev.Kind {
	case voip.EventStart:
		switch ev.Direction {
		case voip.DirectionIn:
			out.Type = EventIn
		case voip.DirectionOut:
			out.Type = EventOut
		default:
			return CallEvent{}, false
		}
	case voip.EventEnd:
		out.Type, out.HangupStatus = EventHangup, hangupStatus(ev.Disposition)
	default:
		return CallEvent{}, false
	}
	return out, true
}

func hangupStatus(d voip.Disposition) HangupStatus {
	switch d {
	case voip.DispositionAnswered:
		return HangupAnswered
	case voip.DispositionBusy:
		return HangupBusy
	case voip.DispositionCancel:
		return HangupCancel
	case voip.DispositionNoAnswer:
		return HangupNoAnswer
	}
	return HangupFailed
}

// CallRecordFrom maps a PBX's finished call to a record for UploadCalls.
// Date is the start; Duration the talk and DurationWaiting the rest of the
// call (ringing, the queue); Code the extension; ExternalID the call id;
// RecordURL the vendor's recording link (serve your own through
// NewCallbackHandler's Recording where that link needs credentials or
// expires); ExternalPhone the line. Result follows the disposition:
// Answered, Busy, Cancel and NoAnswer → "no answer", Failed → "failed",
// Unknown → "unknown"; but a Failed or Unknown call whose vendor status says
// it was forbidden (Gravitel's NotAllowed, "forbidden") → "not allowed".
//
// It returns false for what retailCRM has no record for: an internal call
// or one without a direction, a call without the client's number or a
// start time.
func CallRecordFrom(c voip.Call) (CallRecord, bool) {
	var t CallType
	switch c.Direction {
	case voip.DirectionIn:
		t = CallIn
	case voip.DirectionOut:
		t = CallOut
	default:
		return CallRecord{}, false
	}
	if strings.TrimSpace(c.Client) == "" || c.StartedAt.IsZero() {
		return CallRecord{}, false
	}
	wait := max(c.Duration-c.Talk, 0)
	if c.Talk <= 0 {
		wait = max(c.Duration, 0)
	}
	return CallRecord{
		Date: c.StartedAt, Type: t, Phone: strings.TrimSpace(c.Client), Code: strings.TrimSpace(c.Ext),
		Result: callResult(c.Disposition, c.RawStatus), Duration: max(c.Talk, time.Duration(0)), DurationWaiting: wait,
		ExternalID: c.ID, RecordURL: c.RecordingURL, ExternalPhone: c.Line,
	}, true
}

func callResult(d voip.Disposition, raw string) CallResult {
	if (d == voip.DispositionFailed || d == voip.DispositionUnknown) && forbidden(raw) {
		return ResultNotAllowed
	}
	switch d {
	case voip.DispositionAnswered:
		return ResultAnswered
	case voip.DispositionBusy:
		return ResultBusy
	case voip.DispositionCancel, voip.DispositionNoAnswer:
		return ResultNoAnswer
	case voip.DispositionFailed:
		return ResultFailed
	}
	return ResultUnknown
}

// forbidden reports a vendor status that means the call was not allowed.
func forbidden(raw string) bool {
	s := strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(raw)))
	return s == "notallowed" || s == "forbidden"
}
