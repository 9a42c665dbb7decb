package retailcrm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// Callbacks returns the configuration of NewCallbackHandler for the
// bridge: MakeCall calls Provider.GenerateCall from the user's extension
// (the callback's code, or the one Register mapped to its userId);
// ChangeStatus sets the member's DND when SetDND is set (nil otherwise,
// which answers 404); Recording serves the links of RecordURL.
func (b *Bridge) Callbacks(clientID string) CallbackConfig {
	cfg := CallbackConfig{ClientID: clientID, MakeCall: b.makeCall, Recording: b.recording, Logger: b.Logger}
	if b.SetDND != nil {
		cfg.ChangeStatus = b.changeStatus
	}
	return cfg
}

// Caller is what the CRM knows of a calling number, for a PBX's lookup in
// the ringing path (Gravitel's contact, Phonet's client card), which shows
// the client's name and routes the call to their manager.
type Caller struct {
	// Name is the customer's name; empty for an unknown number.
	Name string
	// Ext is the extension of the customer's responsible manager, when
	// they are free and have one in the module.
	Ext string
	// Link is the customer's page in the CRM, or the page that creates
	// one for an unknown number.
	Link string
	// Known is true when a customer has the number.
	Known bool
}

// Caller asks the CRM who is calling from phone (Client.ResponsibleManager).
// It sits in the ringing path: give it a short ctx.
func (b *Bridge) Caller(ctx context.Context, phone string) (Caller, error) {
	r, err := b.CRM.ResponsibleManager(ctx, ManagerQuery{Phone: phone})
	if err != nil {
		return Caller{}, err
	}
	var c Caller
	if r.Customer != nil {
		c.Known = true
		c.Name = strings.Join(strings.Fields(r.Customer.FirstName+" "+r.Customer.LastName), " ")
		c.Link = r.Links.CustomerLink
	}
	if c.Link == "" {
		c.Link = r.Links.NewCustomerLink
	}
	if r.Manager != nil {
		c.Ext = r.Manager.Code
		if c.Ext == "" {
			c.Ext = b.codeOf(r.Manager.ID)
		}
	}
	return c, nil
}

func (b *Bridge) makeCall(ctx context.Context, r MakeCallRequest) error {
	ext := r.Code
	if ext == "" {
		ext = b.codeOf(r.UserID)
	}
	if ext == "" {
		return fmt.Errorf("retailcrm bridge: makeCall for user %d: no extension", r.UserID)
	}
	id, err := b.PBX.GenerateCall(ctx, ext, r.Phone)
	log := b.log().With("ext", ext, "phone", r.Phone, "userId", r.UserID)
	if err != nil {
		if errors.Is(err, voip.ErrAmbiguous) {
			log.Warn("retailcrm bridge: makeCall may have rung; not retried", "err", err)
		} else {
			log.Error("retailcrm bridge: makeCall failed", "err", err)
		}
		return err
	}
	log.Info("retailcrm bridge: call placed", "call", id)
	return nil
}

// dndOn says whether a user status means do-not-disturb, and whether the
// bridge knows the status.
func dndOn(s UserStatus) (on, known bool) {
	switch s {
	case StatusFree:
		return false, true
	case StatusBusy, StatusDinner, StatusBreak:
		return true, true
	}
	return false, false
}

func (b *Bridge) changeStatus(ctx context.Context, s StatusChange) error {
	on, known := dndOn(s.Status)
	if !known {
		b.log().Warn("retailcrm bridge: unknown user status, DND left as it is", "status", string(s.Status), "userId", s.UserID)
		return nil
	}
	code := s.Code
	if code == "" {
		code = b.codeOf(s.UserID)
	}
	m, ok := b.memberOf(code)
	if !ok {
		return fmt.Errorf("retailcrm bridge: status of user %d: no PBX member with extension %q: %w", s.UserID, code, voip.ErrNotFound)
	}
	if err := b.SetDND(ctx, m, on); err != nil {
		return err
	}
	b.log().Info("retailcrm bridge: DND set", "member", m.ID, "ext", code, "dnd", on, "status", string(s.Status))
	return nil
}

func (b *Bridge) recording(ctx context.Context, r RecordingRequest) (io.ReadCloser, string, error) {
	q := r.URL.Query()
	at, err := strconv.ParseInt(q.Get("at"), 10, 64)
	if q.Get("call") == "" || err != nil {
		return nil, "", fmt.Errorf("retailcrm bridge: not a recording link of the bridge: %w", voip.ErrNotFound)
	}
	c := voip.Call{ID: q.Get("call"), StartedAt: time.Unix(at, 0).UTC()}
	b.mu.Lock()
	c.RecordingURL = b.links[c.ID]
	b.mu.Unlock()
	link, err := b.PBX.CallLink(ctx, c)
	if err != nil {
		return nil, "", err
	}
	if b.OpenRecording != nil {
		return b.OpenRecording(ctx, c, link)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, "", fmt.Errorf("retailcrm bridge: recording link: %w", err)
	}
	hc := b.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		err := fmt.Errorf("retailcrm bridge: recording of call %s: the PBX answered %s", c.ID, resp.Status)
		if resp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", err, voip.ErrNotFound)
		}
		return nil, "", err
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

func (b *Bridge) codeOf(userID int64) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.codes {
		if c.UserID == userID {
			return c.Code
		}
	}
	return ""
}

func (b *Bridge) memberOf(ext string) (voip.Member, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.members {
		if ext != "" && strings.TrimSpace(m.Ext) == ext {
			return m, true
		}
	}
	return voip.Member{}, false
}
