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

// Event is a cmd=event webhook. Type is INCOMING, ACCEPTED, COMPLETED,
// CANCELLED or OUTGOING.
type Event struct {
	Type, CallID, Phone, Diversion, User, Ext, GroupRealName string
}

// History is a cmd=history webhook. Type is in or out; Status is Success,
// missed, Busy, NotAvailable or NotAllowed.
type History struct {
	Type, Status, CallID, Phone, Diversion, User, Ext, Link string
	Start                                                   time.Time
	Duration                                                int // seconds
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
	v := url.Values{"cmd": {"event"}, "type": {ev.Type}, "callid": {ev.CallID}, "phone": {ev.Phone}, "user": {ev.User}, "z-flag": {"0"}}
	setIf(v, "diversion", ev.Diversion)
	setIf(v, "ext", ev.Ext)
	setIf(v, "groupRealName", ev.GroupRealName)
	_, err := h.Send(ctx, v)
	return err
}

// SendHistory posts a cmd=history webhook.
func (h Webhooks) SendHistory(ctx context.Context, c History) error {
	v := url.Values{
		"cmd": {"history"}, "type": {c.Type}, "status": {c.Status}, "callid": {c.CallID}, "phone": {c.Phone},
		"user": {c.User}, "start": {c.Start.UTC().Format("20060102T150405Z")}, "duration": {strconv.Itoa(c.Duration)},
		"z-flag": {"0"},
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

// Send posts fields plus crm_token and returns the reply body of a 200.
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

// companyNumber is the tenant's DID in the scenarios.
const companyNumber = "74996861574"

// PlayInbound plays a client calling the company, answered by the account
// named login: contact, INCOMING, ACCEPTED, COMPLETED and history. The
// call joins the server's history with a recording link. It returns the
// call id.
func (s *Server) PlayInbound(ctx context.Context, h Webhooks, phone, login string, talk time.Duration) (string, error) {
	callID := newUUID()
	if _, _, err := h.SendContact(ctx, phone, callID); err != nil {
		return "", err
	}
	return callID, s.play(ctx, h, "in", "INCOMING", callID, phone, login, talk)
}

// PlayOutbound plays the rest of a call placed by makeCall: OUTGOING,
// ACCEPTED, COMPLETED and history, with the call's uuid as callid.
func (s *Server) PlayOutbound(ctx context.Context, h Webhooks, c PlacedCall, talk time.Duration) error {
	return s.play(ctx, h, "out", "OUTGOING", c.UUID, c.Phone, login(c.User), talk)
}

func (s *Server) play(ctx context.Context, h Webhooks, typ, first, callID, phone, name string, talk time.Duration) error {
	s.mu.Lock()
	a, ok := s.account(name)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("graviteltest: no account %q", name)
	}
	user := a.Name + "@" + s.domain()
	start := time.Now().UTC().Truncate(time.Second)
	for _, t := range []string{first, "ACCEPTED", "COMPLETED"} {
		ev := Event{Type: t, CallID: callID, Phone: phone, Diversion: companyNumber, User: user, Ext: a.Ext}
		if err := h.SendEvent(ctx, ev); err != nil {
			return err
		}
	}
	link := s.URL + "/records/" + callID + ".mp3"
	secs := int(talk / time.Second)
	s.AddHistory(Line{UID: callID, Type: typ, Client: "+" + phone, Account: user, Via: "+" + companyNumber,
		Start: start, Wait: 3, Talk: secs, Record: link})
	return h.SendHistory(ctx, History{Type: typ, Status: "Success", CallID: callID, Phone: phone,
		Diversion: companyNumber, User: user, Ext: a.Ext, Link: link, Start: start, Duration: secs + 3})
}
