package graviteltest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhooks posts the PBX's webhooks to the CRM URL, form-encoded with
// crm_token in the body, as the PBX does.
type Webhooks struct {
	URL      string       // the CRM URL ("Ссылка на уведомления о звонках")
	CRMToken string       // the CRM key
	Client   *http.Client // nil means http.DefaultClient
}

// EventType is the type of a cmd=event webhook.
type EventType string

// The event types Gravitel sends.
const (
	EventIncoming  EventType = "INCOMING"  // ringing at an employee
	EventOutgoing  EventType = "OUTGOING"  // an employee is dialling a client
	EventAccepted  EventType = "ACCEPTED"  // picked up
	EventCompleted EventType = "COMPLETED" // hung up after talking
	EventCancelled EventType = "CANCELLED" // ended without a talk
)

// Status is the outcome of a call in a cmd=history webhook.
type Status string

// The statuses Gravitel sends, spelt as the spec prints them.
const (
	StatusSuccess      Status = "Success"
	StatusMissed       Status = "missed"
	StatusBusy         Status = "Busy"
	StatusNotAvailable Status = "NotAvailable"
	StatusNotAllowed   Status = "NotAllowed"
)

// Event is a cmd=event webhook.
type Event struct {
	Type                                               EventType
	CallID, Phone, Diversion, User, Ext, GroupRealName string
}

// History is a cmd=history webhook. Type is CallIn or CallOut.
type History struct {
	Type                                      CallType
	Status                                    Status
	CallID, Phone, Diversion, User, Ext, Link string
	Start                                     time.Time
	Duration                                  time.Duration // the whole call; sent in whole seconds
}

// StatusError is a reply other than 200.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("graviteltest: webhook answered %d: %s", e.Status, e.Body)
}

// SendEvent posts a cmd=event webhook.
func (h Webhooks) SendEvent(ctx context.Context, ev Event) error {
	v := url.Values{"cmd": {"event"}, "type": {string(ev.Type)}, "callid": {ev.CallID}, "phone": {ev.Phone}, "user": {ev.User}, "z-flag": {"0"}}
	setIf(v, "diversion", ev.Diversion)
	setIf(v, "ext", ev.Ext)
	setIf(v, "groupRealName", ev.GroupRealName)
	_, err := h.Send(ctx, v)
	return err
}

// SendHistory posts a cmd=history webhook.
func (h Webhooks) SendHistory(ctx context.Context, c History) error {
	v := url.Values{
		"cmd": {"history"}, "type": {string(c.Type)}, "status": {string(c.Status)}, "callid": {c.CallID}, "phone": {c.Phone},
		"user": {c.User}, "start": {c.Start.UTC().Format("20060102T150405Z")},
		"duration": {strconv.Itoa(int(c.Duration / time.Second))}, "z-flag": {"0"},
	}
	setIf(v, "diversion", c.Diversion)
	setIf(v, "ext", c.Ext)
	setIf(v, "link", c.Link)
	_, err := h.Send(ctx, v)
	return err
}

// SendContact posts a cmd=contact webhook and returns the CRM's answer:
// empty strings for an unknown caller.
func (h Webhooks) SendContact(ctx context.Context, phone, callID string) (name, responsible string, err error) {
	body, err := h.Send(ctx, url.Values{"cmd": {"contact"}, "phone": {phone}, "callid": {callID}})
	if err != nil {
		return "", "", err
	}
	var reply struct {
		Name        string `json:"contact_name"`
		Responsible string `json:"responsible"`
	}
	if err := json.Unmarshal(body, &reply); err != nil {
		return "", "", fmt.Errorf("graviteltest: contact reply %q: %w", body, err)
	}
	return reply.Name, reply.Responsible, nil
}

// Send posts fields plus crm_token and returns the reply body of a 200;
// any other reply is a *StatusError.
func (h Webhooks) Send(ctx context.Context, fields url.Values) ([]byte, error) {
	v := url.Values{}
	for k, vs := range fields {
		v[k] = vs
	}
	v.Set("crm_token", h.CRMToken)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	return body, nil
}

func setIf(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}
