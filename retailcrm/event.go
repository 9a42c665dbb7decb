package retailcrm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pbxkit/pbxkit/internal/rest"
)

// EventType is the kind of a call event.
type EventType string

// The call event types.
const (
	EventIn     EventType = "in"
	EventOut    EventType = "out"
	EventHangup EventType = "hangup"
)

// HangupStatus is how a call ended, in a hangup event (api-client-php
// CallEventHangupStatus). Note "no answered": uploads spell it differently
// (ResultNoAnswer).
type HangupStatus string

// The hangup statuses.
const (
	HangupAnswered HangupStatus = "answered"
	HangupBusy     HangupStatus = "busy"
	HangupCancel   HangupStatus = "cancel"
	HangupFailed   HangupStatus = "failed"
	HangupNoAnswer HangupStatus = "no answered"
)

// CallEvent is a live call event: it pops up the client's card for the
// users it names (api-client-php Model/Entity/Telephony/CallEvent).
type CallEvent struct {
	// Phone is the client's number. Required.
	Phone string
	// Type is EventIn, EventOut or EventHangup. Required.
	Type EventType
	// Codes are the extensions, and UserIDs the CRM users, to notify.
	Codes   []string
	UserIDs []int64
	// Site is the store code, for accounts with several.
	Site string
	// CallExternalID links the events of a call together and to its
	// uploaded record (CallRecord.ExternalID).
	CallExternalID string
	// ExternalPhone is the PBX's number the call came to or went from.
	ExternalPhone string
	// HangupStatus is how the call ended; only with EventHangup.
	HangupStatus HangupStatus
}

// EventResult is what retailCRM reports of an event.
type EventResult struct {
	// NotExistCodes are Codes no user has; NotExistUsers UserIDs that do
	// not exist.
	NotExistCodes []string
	NotExistUsers []int64
}

type eventWire struct {
	Phone          string   `json:"phone"`
	Type           string   `json:"type"`
	Codes          []string `json:"codes,omitempty"`
	UserIDs        []int64  `json:"userIds,omitempty"`
	Site           string   `json:"site,omitempty"`
	CallExternalID string   `json:"callExternalId,omitempty"`
	ExternalPhone  string   `json:"externalPhone,omitempty"`
	HangupStatus   string   `json:"hangupStatus,omitempty"`
}

// SendCallEvent reports a call event (POST telephony/call/event, the form
// field event holding its JSON).
//
// It is sent at most once, except when retailCRM refused it for its rate
// limit (429, or 503 "Rate limit exceeded": not processed), when it is sent
// again after a wait as WithRetries says. Any other failure after the event
// left matches voip.ErrAmbiguous: retailCRM may have shown it, and it was
// not repeated. A refused argument is a *voip.ArgError.
func (c *Client) SendCallEvent(ctx context.Context, ev CallEvent) (*EventResult, error) {
	const fn = "SendCallEvent"
	w := eventWire{Phone: strings.TrimSpace(ev.Phone), Type: string(ev.Type), Codes: ev.Codes, UserIDs: ev.UserIDs,
		Site: ev.Site, CallExternalID: ev.CallExternalID, ExternalPhone: ev.ExternalPhone, HangupStatus: string(ev.HangupStatus)}
	switch {
	case w.Phone == "":
		return nil, argError(fn, "Phone", errors.New("empty"))
	case ev.Type != EventIn && ev.Type != EventOut && ev.Type != EventHangup:
		return nil, argError(fn, "Type", fmt.Errorf("%q: want %q, %q or %q", ev.Type, EventIn, EventOut, EventHangup))
	case ev.HangupStatus != "" && ev.Type != EventHangup:
		return nil, argError(fn, "HangupStatus", errors.New("set on an event that is not a hangup"))
	}
	switch ev.HangupStatus {
	case "", HangupAnswered, HangupBusy, HangupCancel, HangupFailed, HangupNoAnswer:
	default:
		return nil, argError(fn, "HangupStatus", fmt.Errorf("unknown status %q", ev.HangupStatus))
	}
	js, err := rest.JSON(w)
	if err != nil {
		return nil, argError(fn, "ev", err)
	}
	resp, err := c.doOnce(ctx, formRequest("telephony/call/event", "event", js))
	if err != nil {
		return nil, err
	}
	var r struct {
		envelope
		NotExistCodes strs   `json:"notExistCodes"`
		NotExistUsers int64s `json:"notExistUsers"`
	}
	if err := c.decode(resp, &r); err != nil {
		return nil, err
	}
	return &EventResult{NotExistCodes: r.NotExistCodes.plain(), NotExistUsers: r.NotExistUsers.plain()}, nil
}
