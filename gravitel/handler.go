package gravitel

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// Contact is the CRM's answer to cmd=contact: the caller's name, shown on
// the employee's phone, and the employee responsible for them (a login, an
// extension or a direct number), to whom the PBX may route the call.
type Contact struct {
	Name        string `json:"contact_name,omitempty"`
	Responsible string `json:"responsible,omitempty"`
}

// Handler receives what WebhookHandler parses. Every function may be nil.
type Handler struct {
	// Update receives cmd=event as a voip.Event and cmd=history as a
	// voip.Call. An error makes the reply 500.
	Update voip.UpdateFunc
	// Contact answers cmd=contact, which sits in the ringing path: answer
	// fast. A nil *Contact (or a nil Contact function) means an unknown
	// caller and replies {}. An error makes the reply 500.
	Contact func(ctx context.Context, w *Webhook) (*Contact, error)
	// Other receives the webhooks without a voip form: rating and
	// TRANSFERRED events.
	Other func(ctx context.Context, w *Webhook) error
	// Logger receives one line per rejected request; nil is silent.
	Logger *slog.Logger
}

// WebhookHandler serves the CRM URL the PBX posts every webhook to, told
// apart by cmd. It answers as the protocol expects: {} with 200 once the
// handler succeeded, the contact reply for cmd=contact, 401
// {"error":"Invalid token"} on a wrong or missing crm_token, and 400
// {"error":"Invalid parameters"} on a body it cannot read. An empty crmToken
// rejects every request.
//
// The handler remembers the calls that began with OUTGOING for a few hours,
// so that their ACCEPTED, COMPLETED and CANCELLED events come out as
// DirectionOut: the PBX does not repeat the direction.
func WebhookHandler(crmToken string, h Handler) http.Handler {
	outgoing := newOutgoingCalls()
	return &voip.Webhook{
		Logger: h.Logger,
		Serve: func(w http.ResponseWriter, r *http.Request, body []byte) error {
			hook, err := parseWebhook(r.Header.Get("Content-Type"), body, crmToken, time.Now())
			if err != nil {
				return err
			}
			return h.serve(w, r.Context(), hook, outgoing)
		},
	}
}

func (h Handler) serve(w http.ResponseWriter, ctx context.Context, hook *Webhook, outgoing *outgoingCalls) error {
	if hook.Cmd == CmdContact {
		var c *Contact
		if h.Contact != nil {
			var err error
			if c, err = h.Contact(ctx, hook); err != nil {
				return err
			}
		}
		if c == nil {
			c = &Contact{}
		}
		voip.WriteJSON(w, http.StatusOK, c)
		return nil
	}
	var u voip.Update
	if ev, ok := hook.Event(); ok {
		outgoing.direct(hook, &ev)
		u.Event = &ev
	}
	if call, ok := hook.Call(); ok {
		outgoing.forget(hook.CallID)
		u.Call = &call
	}
	var err error
	switch {
	case u.Event == nil && u.Call == nil:
		if h.Other != nil {
			err = h.Other(ctx, hook)
		}
	case h.Update != nil:
		err = h.Update(ctx, u)
	}
	if err != nil {
		return err
	}
	voip.WriteJSON(w, http.StatusOK, struct{}{})
	return nil
}
