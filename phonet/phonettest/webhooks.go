package phonettest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EventType is the event field of a call event.
type EventType string

// The call events Phonet posts to the CRM.
const (
	EventDial   EventType = "call.dial"   // «Початок виклику»: the call rings
	EventBridge EventType = "call.bridge" // «Відповіли на дзвінок»: it was answered
	EventHangup EventType = "call.hangup" // «Завершили дзвінок»: it ended
)

// Direction is lgDirection. The values are bit flags; 32 and 64 are not
// calls but an operator's pause.
type Direction int

// The directions of the protocol notes.
const (
	DirectionInternal Direction = 1  // between two employees
	DirectionOut      Direction = 2  // an employee calls out
	DirectionIn       Direction = 4  // a client calls in
	DirectionAway     Direction = 32 // pause on: the operator is away
	DirectionBack     Direction = 64 // pause off: the operator is back
)

// external reports whether d is a call with an external party, which has
// otherLegs and a trunk.
func (d Direction) external() bool { return d == DirectionOut || d == DirectionIn }

// Encoding is how webhook bodies are encoded: Phonet's is not settled, so
// both are offered.
type Encoding int8

const (
	// JSON posts application/json. The default.
	JSON Encoding = iota
	// Form posts application/x-www-form-urlencoded with PHP-style nested
	// keys: leg[id]=36, otherLegs[0][num]=….
	Form
)

// Webhook is one webhook delivery's body, as a JSON-ready map.
type Webhook map[string]any

// Webhooks posts Phonet's webhooks to the CRM. Phonet signs nothing: a
// secret, if any, is part of URL, as the cabinet's URL fields hold it.
type Webhooks struct {
	URL      string       // the CRM URL set in «Інша CRM система», query included
	Client   *http.Client // nil means http.DefaultClient
	Encoding Encoding     // JSON (the default) or Form
}

// StatusError is a reply other than 200.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("phonettest: webhook answered %d: %s", e.Status, e.Body)
}

// maxReply caps the reply body Send reads.
const maxReply = 1 << 20

// Send posts one delivery and returns the body of the reply. A reply other
// than 200 is a *StatusError.
func (h Webhooks) Send(ctx context.Context, w Webhook) ([]byte, error) {
	var (
		body []byte
		ct   string
	)
	switch h.Encoding {
	case Form:
		body, ct = []byte(formEncode(w)), "application/x-www-form-urlencoded"
	default:
		var err error
		if body, err = json.Marshal(w); err != nil {
			return nil, err
		}
		ct = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", ct)
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Status: resp.StatusCode, Body: strings.TrimSpace(string(reply))}
	}
	return reply, nil
}

// played is a call whose webhooks the server posts: its uuid, who took
// part, and its times. bridge is zero for a call nobody answered.
type played struct {
	uuid              string
	direction         Direction
	user              User
	client            string
	dial, bridge, end time.Time
}

// EventWebhook is a call event as Phonet posts it to the CRM: the socket's
// shape plus accountDomain, with times in seconds as in the sample of the
// public receiver's tests. The call rang 12 s ago; every event but
// EventDial says it was answered now. A direction of DirectionAway or
// DirectionBack makes it an operator's pause.
func (s *Server) EventWebhook(event EventType, uuid string, direction Direction, ext, client string) Webhook {
	s.mu.Lock()
	u, _ := s.userByExt(ext)
	s.mu.Unlock()
	now := time.Now()
	p := played{uuid: uuid, direction: direction, user: u, client: client, dial: now.Add(-12 * time.Second), end: now}
	if event != EventDial {
		p.bridge = now
	}
	return s.eventBody(p, event)
}

func (s *Server) eventBody(p played, event EventType) Webhook {
	w := Webhook{
		"event": string(event), "accountDomain": s.Domain, "uuid": p.uuid, "parentUuid": nil,
		"dialAt": p.dial.Unix(), "bridgeAt": nil, "lgDirection": int(p.direction),
		"leg":       map[string]any{"id": p.user.ID, "ext": p.user.Ext, "displayName": p.user.DisplayName},
		"leg2":      nil,
		"otherLegs": nil, "trunkNum": nil, "trunkName": nil,
	}
	if p.direction.external() {
		w["otherLegs"] = []any{map[string]any{"id": 1, "name": "Анастасия Березкина", "num": p.client,
			"companyName": "Тестовая компания", "url": "http://phonet.com.ua/contacts/1"}}
		w["trunkNum"], w["trunkName"] = DefaultTrunk, "www.phonet.com.ua"
	}
	if event != EventDial && !p.bridge.IsZero() {
		w["bridgeAt"] = p.bridge.Unix()
	}
	if event == EventHangup {
		w["serverTime"] = p.end.UnixMilli()
	}
	return w
}

// LookupWebhook is a client-card lookup: no event, the caller's number
// (null when it is hidden: pass "") and the dialled company number.
func LookupWebhook(otherLegNum, trunkNum string) Webhook {
	w := Webhook{"otherLegNum": nil, "trunkNum": trunkNum}
	if otherLegNum != "" {
		w["otherLegNum"] = otherLegNum
	}
	return w
}

// InboundCall is a client's call to the company that PlayInbound plays.
type InboundCall struct {
	// CallID is the call's uuid; empty means a new one, 32 hex digits as
	// events carry it.
	CallID string
	// Client is the caller's number; Ext the employee who takes the call.
	Client, Ext string
	// Ring is how long it rang; Talk how long the parties talked, zero for
	// a call nobody answered. Both count in whole seconds.
	Ring, Talk time.Duration
}

// PlayInbound plays a client calling the company to h: the client-card
// lookup, call.dial, call.bridge when the call is answered, and
// call.hangup. The call took place just now: it ends when PlayInbound is
// called and started Ring+Talk before. It joins the REST history, with a
// recording when it was answered, before call.hangup is posted, so that a
// CRM that pulls the history on hangup finds it. It returns the call id.
func (s *Server) PlayInbound(ctx context.Context, h Webhooks, c InboundCall) (string, error) {
	if c.CallID == "" {
		c.CallID = newID()
	}
	p, err := s.newPlayed(c.CallID, DirectionIn, c.Ext, c.Client, c.Ring, c.Talk)
	if err != nil {
		return "", err
	}
	if _, err := h.Send(ctx, LookupWebhook(c.Client, DefaultTrunk)); err != nil {
		return "", err
	}
	return c.CallID, s.play(ctx, h, p)
}

// PlayOutbound plays the rest of a placed call (see [Server.Calls]):
// call.dial, call.bridge when talk is not zero, and call.hangup, with the
// call's uuid. Like PlayInbound, the call ends now, joins the history
// before its hangup is posted, and leaves the active calls.
func (s *Server) PlayOutbound(ctx context.Context, h Webhooks, c PlacedCall, ring, talk time.Duration) error {
	p, err := s.newPlayed(c.UUID, DirectionOut, c.Ext, c.To, ring, talk)
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.active, c.UUID)
	s.mu.Unlock()
	return s.play(ctx, h, p)
}

// newPlayed is a call of the user with ext that ends now, after ring and
// talk. Events carry seconds: whole seconds keep every time in order.
func (s *Server) newPlayed(uuid string, dir Direction, ext, client string, ring, talk time.Duration) (played, error) {
	if ring < 0 || talk < 0 {
		return played{}, fmt.Errorf("phonettest: negative ring %v or talk %v", ring, talk)
	}
	s.mu.Lock()
	u, ok := s.userByExt(ext)
	s.mu.Unlock()
	if !ok {
		return played{}, fmt.Errorf("phonettest: no user with ext %q", ext)
	}
	ring, talk = ring.Truncate(time.Second), talk.Truncate(time.Second)
	end := time.Now().Truncate(time.Second)
	p := played{uuid: uuid, direction: dir, user: u, client: client, dial: end.Add(-ring - talk), end: end}
	if talk > 0 {
		p.bridge = p.dial.Add(ring)
	}
	return p, nil
}

// play posts the events of p and adds it to the history before its
// hangup.
func (s *Server) play(ctx context.Context, h Webhooks, p played) error {
	events := []EventType{EventDial, EventHangup}
	if !p.bridge.IsZero() {
		events = []EventType{EventDial, EventBridge, EventHangup}
	}
	for _, ev := range events {
		if ev == EventHangup {
			s.addRecord(p)
		}
		if _, err := h.Send(ctx, s.eventBody(p, ev)); err != nil {
			return err
		}
	}
	return nil
}

// formEncode writes v as PHP's http_build_query does: nested maps and lists
// as bracketed keys, null as an empty value, booleans as 1 and 0.
func formEncode(v Webhook) string {
	vals := url.Values{}
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		switch t := x.(type) {
		case Webhook:
			walk(prefix, map[string]any(t))
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				name := k
				if prefix != "" {
					name = prefix + "[" + k + "]"
				}
				walk(name, t[k])
			}
		case []any:
			for i, e := range t {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		case []map[string]any:
			for i, e := range t {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		case nil:
			vals.Add(prefix, "")
		case bool:
			if t {
				vals.Add(prefix, "1")
			} else {
				vals.Add(prefix, "0")
			}
		case string:
			vals.Add(prefix, t)
		default:
			vals.Add(prefix, strings.TrimSpace(fmt.Sprint(t)))
		}
	}
	walk("", v)
	return vals.Encode()
}
