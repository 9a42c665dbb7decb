package graviteltest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// companyNumber is the tenant's DID in the scenarios.
const companyNumber = "74996861574"

// InboundCall is a client calling the company, for [Server.PlayInbound].
type InboundCall struct {
	// CallID is the call's id; empty means a new UUID.
	CallID string
	// Client is the caller's number: E.164 digits, with or without "+".
	Client string
	// Ext names the employee who takes the call: an account's extension or
	// login ("702", "ivan", "ivan@test.gravitel.ru").
	Ext string
	// Ring is how long the call rang before it was answered, or before the
	// caller gave up.
	Ring time.Duration
	// Talk is how long the call was talked; zero plays a call nobody
	// answered.
	Talk time.Duration
}

// PlayInbound plays a client calling the company: cmd=contact, INCOMING,
// then ACCEPTED and COMPLETED, or CANCELLED when c.Talk is zero, and the
// call's history, status Success or missed. The call joins the server's
// history, as missed when unanswered and with a recording link when
// answered. It returns the call id.
//
// The call is back-dated so that it ends now: its start is Ring plus Talk
// ago, in whole seconds, and its history ends when its last event is sent.
func (s *Server) PlayInbound(ctx context.Context, h Webhooks, c InboundCall) (callID string, err error) {
	callID = c.CallID
	if callID == "" {
		callID = newUUID()
	}
	phone := strings.TrimPrefix(strings.TrimSpace(c.Client), "+")
	if phone == "" {
		return "", errors.New("graviteltest: PlayInbound: empty Client")
	}
	return callID, s.play(ctx, h, call{inbound: true, callID: callID, phone: phone, ext: c.Ext, ring: c.Ring, talk: c.Talk})
}

// PlayOutbound plays the rest of a call placed by makeCall (see
// [Server.Calls]), with its uuid as callid: OUTGOING, then ACCEPTED and
// COMPLETED after ring and talk, or CANCELLED when talk is zero, and the
// call's history, status Success or NotAvailable. The call joins the
// server's history, with a recording link when answered. It is back-dated
// as in PlayInbound.
func (s *Server) PlayOutbound(ctx context.Context, h Webhooks, placed PlacedCall, ring, talk time.Duration) error {
	return s.play(ctx, h, call{callID: placed.UUID, phone: placed.Phone, ext: placed.User, ring: ring, talk: talk})
}

// call is a call to play.
type call struct {
	inbound       bool
	callID, phone string
	ext           string // the account, by extension or login
	ring, talk    time.Duration
}

func (s *Server) play(ctx context.Context, h Webhooks, c call) error {
	if c.ring < 0 || c.talk < 0 {
		return fmt.Errorf("graviteltest: negative ring %v or talk %v", c.ring, c.talk)
	}
	s.mu.Lock()
	a, ok := s.account(c.ext)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("graviteltest: no account %q", c.ext)
	}
	user := a.Name + "@" + s.domain()
	wait, talk := c.ring.Truncate(time.Second), c.talk.Truncate(time.Second)
	end := time.Now().UTC().Truncate(time.Second)
	start := end.Add(-wait - talk)

	if c.inbound { // the PBX asks who is calling before it rings anyone
		if _, _, err := h.SendContact(ctx, c.phone, c.callID); err != nil {
			return err
		}
	}
	first, typ, status := EventOutgoing, CallOut, StatusNotAvailable
	if c.inbound {
		first, typ, status = EventIncoming, CallIn, StatusMissed
	}
	events := []EventType{first, EventCancelled}
	line := Line{UID: c.callID, Type: typ, Client: "+" + c.phone, Account: user, Via: "+" + companyNumber,
		Start: start, Wait: wait, Talk: talk}
	if c.inbound {
		line.Type = CallMissed
	}
	if talk > 0 {
		events = []EventType{first, EventAccepted, EventCompleted}
		status, line.Type = StatusSuccess, typ
		line.Record = s.URL + "/records/" + c.callID + ".mp3"
	}
	for _, t := range events {
		ev := Event{Type: t, CallID: c.callID, Phone: c.phone, Diversion: companyNumber, User: user, Ext: a.Ext}
		if err := h.SendEvent(ctx, ev); err != nil {
			return err
		}
	}
	s.AddHistory(line)
	return h.SendHistory(ctx, History{Type: typ, Status: status, CallID: c.callID, Phone: c.phone,
		Diversion: companyNumber, User: user, Ext: a.Ext, Link: line.Record, Start: start, Duration: wait + talk})
}
