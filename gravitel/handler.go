package gravitel

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/hook"
	"github.com/pbxkit/pbxkit/voip"
)

// Contact is the CRM's answer to cmd=contact: the caller's name, shown on
// the employee's phone, and the employee responsible for them (a login, an
// extension or a direct number), to whom the PBX may route the call.
type Contact struct {
	Name        string `json:"contact_name,omitempty"`
	Responsible string `json:"responsible,omitempty"`
}

// WebhookConfig configures [NewWebhookHandler]. CRMToken is required, and
// at least one of Update, Contact and Other. The zero value of every other
// field is its default.
type WebhookConfig struct {
	// CRMToken is the CRM key ("Ключ для авторизации в CRM"), chosen by the
	// CRM admin and typed into the PBX cabinet; the PBX echoes it as
	// crm_token in every webhook. Required: the protocol has no other
	// authentication.
	CRMToken string
	// Update receives cmd=event as a voip.Event and cmd=history as a
	// voip.Call. An error makes the reply 500, so that the PBX may deliver
	// again. Nil drops them with {}.
	Update voip.UpdateFunc
	// Contact answers cmd=contact, which sits in the ringing path: answer
	// fast. A nil *Contact means an unknown caller, and replies {}. An
	// error makes the reply 500. Nil answers {} to every caller.
	Contact func(ctx context.Context, w *Webhook) (*Contact, error)
	// Other receives the webhooks without a voip form: cmd=rating and
	// TRANSFERRED events. An error makes the reply 500. Nil drops them
	// with {}.
	Other func(ctx context.Context, w *Webhook) error
	// Logger receives one line per rejected request; nil is silent. No
	// token appears in it.
	Logger *slog.Logger
	// MaxBody caps a request body; a longer one is answered 413. Zero or
	// less means voip.DefaultWebhookMaxBody (1 MiB).
	MaxBody int64
	// DedupeWindow is how long a delivery is remembered so that the PBX's
	// duplicates of it are answered {} and not delivered again. Zero means
	// voip.DefaultDedupeWindow (10 minutes); a negative value delivers
	// every duplicate.
	DedupeWindow time.Duration
	// Memory is where the handler remembers deliveries, and the calls that
	// began with OUTGOING. Nil means a voip.LocalMemory of the handler's
	// own. Handlers behind one load balancer must share one: give them
	// one LocalMemory in one process, a distributed Memory across
	// replicas.
	Memory voip.Memory
}

// NewWebhookHandler returns the handler of the CRM URL ("Ссылка на
// уведомления о звонках"), where the PBX posts every webhook, told apart by
// cmd. It answers as the protocol expects: {} with 200 once a delivery was
// handled, the contact reply for cmd=contact, 401 {"error":"Invalid token"}
// on a wrong or missing crm_token, 400 {"error":"Invalid parameters"} on a
// body it cannot read, and 500 when a callback or the Memory fails.
//
// The PBX says that a call goes out only in its first event, OUTGOING: the
// handler remembers that fact in cfg.Memory for a few hours, so that the
// call's ACCEPTED, COMPLETED and CANCELLED events come out as
// voip.DirectionOut, and forgets it when the call's history arrives. A
// direction field the PBX sends (MegaFon does) wins.
//
// Deliveries of cmd=event, history and rating are deduplicated on their
// fields: one that repeats an earlier one byte for byte within
// cfg.DedupeWindow is answered {} without calling back. The protocol has no
// delivery id, so an event the PBX sends twice on purpose, such as INCOMING
// again for an employee the call is routed back to, is dropped too; set a
// negative DedupeWindow to see every one. cmd=contact is never
// deduplicated: the PBX waits for its answer every time.
//
// An empty CRMToken, or no callback at all, is an error.
func NewWebhookHandler(cfg WebhookConfig) (http.Handler, error) {
	if strings.TrimSpace(cfg.CRMToken) == "" {
		return nil, errors.New("gravitel: NewWebhookHandler: empty CRMToken: set the CRM key typed into the PBX cabinet")
	}
	if cfg.Update == nil && cfg.Contact == nil && cfg.Other == nil {
		return nil, errors.New("gravitel: NewWebhookHandler: no callback: set Update, Contact or Other")
	}
	h := &webhookHandler{cfg: cfg, mem: hook.NewMemory(cfg.Memory, cfg.DedupeWindow)}
	return &voip.Webhook{Serve: h.serve, MaxBody: cfg.MaxBody, Logger: cfg.Logger}, nil
}

type webhookHandler struct {
	cfg WebhookConfig
	mem hook.Memory
}

func (h *webhookHandler) serve(w http.ResponseWriter, r *http.Request, body []byte) error {
	ctx := r.Context()
	wh, err := parseWebhook(r.Header.Get("Content-Type"), body, h.cfg.CRMToken, time.Now())
	if err != nil {
		return err
	}
	if wh.Cmd == CmdContact {
		return h.contact(ctx, w, wh)
	}
	// Raw is every field but crm_token: a redelivery repeats it exactly.
	if _, err := h.mem.Once(ctx, hook.Key(Vendor, "delivery", wh.Raw), func() error { return h.deliver(ctx, wh) }); err != nil {
		return err
	}
	voip.WriteJSON(w, http.StatusOK, struct{}{})
	return nil
}

// contact answers cmd=contact: the CRM's contact, or {} for an unknown
// caller.
func (h *webhookHandler) contact(ctx context.Context, w http.ResponseWriter, wh *Webhook) error {
	var c *Contact
	if h.cfg.Contact != nil {
		var err error
		if c, err = h.cfg.Contact(ctx, wh); err != nil {
			return err
		}
	}
	if c == nil {
		c = &Contact{}
	}
	voip.WriteJSON(w, http.StatusOK, c)
	return nil
}

// deliver hands a webhook to its callback, in its voip form when it has
// one.
func (h *webhookHandler) deliver(ctx context.Context, wh *Webhook) error {
	var u voip.Update
	if ev, ok := wh.Event(); ok {
		if err := direct(ctx, h.mem, wh, &ev); err != nil {
			return err
		}
		u.Event = &ev
	}
	if call, ok := wh.Call(); ok {
		if err := forgetOutgoing(ctx, h.mem, wh.CallID); err != nil {
			return err
		}
		u.Call = &call
	}
	switch {
	case u.Event == nil && u.Call == nil:
		if h.cfg.Other != nil {
			return h.cfg.Other(ctx, wh)
		}
	case h.cfg.Update != nil:
		return h.cfg.Update(ctx, u)
	}
	return nil
}
