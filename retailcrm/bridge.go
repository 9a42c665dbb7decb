package retailcrm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// AdditionalCodes maps a PBX's members to CRM users for
// Telephony.AdditionalCodes: one entry for each member with an extension
// that userOf maps to a CRM user id above 0, in the order of members. A
// user or an extension already mapped is not mapped again (retailCRM keeps
// one extension per user), and members without an extension are left out.
// A nil userOf maps nobody.
func AdditionalCodes(members []voip.Member, userOf func(voip.Member) (int64, bool)) []AdditionalCode {
	if userOf == nil {
		return nil
	}
	var out []AdditionalCode
	users, codes := map[int64]bool{}, map[string]bool{}
	for _, m := range members {
		code := strings.TrimSpace(m.Ext)
		if code == "" || codes[code] {
			continue
		}
		id, ok := userOf(m)
		if !ok || id <= 0 || users[id] {
			continue
		}
		users[id], codes[code] = true, true
		out = append(out, AdditionalCode{UserID: id, Code: code})
	}
	return out
}

// UsersByExt is a userOf for AdditionalCodes and Bridge.Register that
// looks a member's extension up in ext → CRM user id.
func UsersByExt(users map[string]int64) func(voip.Member) (int64, bool) {
	return func(m voip.Member) (int64, bool) {
		id, ok := users[strings.TrimSpace(m.Ext)]
		return id, ok
	}
}

// UsersByEmail is a userOf for AdditionalCodes and Bridge.Register that
// looks a member's email up, case-insensitively, in email → CRM user id:
// the PBX and the CRM usually know a person by the same address.
func UsersByEmail(users map[string]int64) func(voip.Member) (int64, bool) {
	lower := make(map[string]int64, len(users))
	for e, id := range users {
		lower[strings.ToLower(strings.TrimSpace(e))] = id
	}
	return func(m voip.Member) (int64, bool) {
		e := strings.ToLower(strings.TrimSpace(m.Email))
		if e == "" {
			return 0, false
		}
		id, ok := lower[e]
		return id, ok
	}
}

// DefaultMaxUploadAttempts is how many times a Bridge uploads a call before
// it gives up on it and logs it.
const DefaultMaxUploadAttempts = 5

// Bridge connects any voip.Provider to retailCRM: the PBX's live events
// become call events, its finished calls the CRM's history, and retailCRM's
// callbacks reach the PBX (makeCallUrl → GenerateCall, changeUserStatusUrl
// → SetDND, recordUrl → the recording, streamed).
//
// Register the module with Register; feed the bridge with Update (a
// voip.UpdateFunc for any vendor's webhook handler) or Consume (a socket's
// voip.Source); upload with Flush or FlushEvery; serve retailCRM with
// NewCallbackHandler(b.Callbacks(clientID)); answer a PBX's caller lookup
// with Caller. Set the fields before the first use and do not change them
// after; the methods are safe for concurrent use. A Bridge must not be
// copied.
//
// Nothing is sent twice that could show twice: a call event that failed
// after it left (voip.ErrAmbiguous) is logged, not resent, and Update never
// returns its error, which would make the vendor deliver the event again.
// Calls are uploaded in batches and sent again when they fail, which is
// safe since retailCRM deduplicates on externalId; a call refused for its
// data MaxUploadAttempts times, or failed without an id to deduplicate on,
// is logged at Error with its id, never dropped silently (see Flush).
type Bridge struct {
	// CRM is the account's client. Required.
	CRM *Client
	// PBX is the PBX. Required.
	PBX voip.Provider
	// Telephony is the module's telephony block, whose *EventSupported
	// flags say which events to send. Register sets it; nil sends every
	// event.
	Telephony *Telephony
	// RecordURL, when set, is the URL of the bridge's recording callback
	// (served by Callbacks, such as "https://bridge.example.com/retailcrm/record"):
	// an uploaded call with a recording points there, with the call's id
	// and start in the query, and retailCRM's player fetches it through the
	// bridge, which asks the PBX for its link (Provider.CallLink, given the
	// vendor's own link too while the bridge remembers it: the last
	// MaxRememberedLinks calls, in memory) and streams it. Gravitel and
	// Phonet find a link from the id and start alone, after a restart too;
	// New-Tel only from the link it sent.
	//
	// Empty uploads the vendor's own link, if any, as it is. Vendor links
	// are often temporary or need credentials, and retailCRM adds the
	// module's clientId to the link it fetches, which then reaches the
	// vendor: prefer the bridge's.
	RecordURL string
	// OpenRecording fetches a recording at the link CallLink gave, with the
	// vendor's credentials where it needs them (Phonet's
	// DownloadRecording), and names its Content-Type. Nil is a GET with
	// HTTPClient; a 404 matches voip.ErrNotFound.
	OpenRecording func(ctx context.Context, c voip.Call, link string) (io.ReadCloser, string, error)
	// SetDND turns a member's do-not-disturb on or off, for
	// changeUserStatusUrl: a user going to "busy", "dinner" or "break" is
	// on, "free" is off. The voip contract has no DND; give the vendor's
	// (Gravitel's Client.SetDND). Nil leaves the callback unserved: then do
	// not register a ChangeUserStatusURL.
	SetDND func(ctx context.Context, m voip.Member, on bool) error
	// Finished looks up the record of a call that just ended, for vendors
	// whose live events carry no record (Phonet's socket and call
	// webhooks): called on every end event that passes CallEventFrom's
	// filter, and what it returns is queued for upload. Nil: records come
	// through Update's voip.Update.Call. It runs in the event's path,
	// after the event was sent: keep it short.
	Finished func(ctx context.Context, end voip.Event) ([]voip.Call, error)
	// HTTPClient fetches recordings when OpenRecording is nil. Nil is a
	// client without a timeout: the request's context bounds it.
	HTTPClient *http.Client
	// MaxUploadAttempts bounds the uploads of a call that retailCRM
	// refuses for its data; 0 means DefaultMaxUploadAttempts.
	MaxUploadAttempts int
	// Logger receives a line per event sent or failed, per upload and per
	// callback; nil is silent. Lines carry call ids, extensions and phone
	// numbers, never the key or the clientId.
	Logger *slog.Logger

	mu      sync.Mutex
	members []voip.Member
	codes   []AdditionalCode
	pending []pendingCall
	full    chan struct{}     // a batch is ready
	links   map[string]string // call id → the vendor's recording link
	order   []string          // the ids of links, oldest first
}

// MaxRememberedLinks is how many vendors' recording links a Bridge keeps
// for its recording callback.
const MaxRememberedLinks = 10_000

type pendingCall struct {
	rec      CallRecord
	attempts int
}

func (b *Bridge) log() *slog.Logger {
	if b.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Logger
}

// Register edits the module code with m, its AdditionalCodes made from the
// PBX's members mapped by userOf (see AdditionalCodes; nil keeps m's), and
// keeps the members, the codes and m.Telephony for the callbacks and the
// event flags. It logs the users the account does not have. A PBX whose
// Members is not supported (New-Tel) keeps m's AdditionalCodes.
func (b *Bridge) Register(ctx context.Context, code string, m IntegrationModule, userOf func(voip.Member) (int64, bool)) (*EditInfo, error) {
	members, err := b.PBX.Members(ctx)
	switch {
	case errors.Is(err, voip.ErrNotSupported):
		b.log().Info("retailcrm bridge: the PBX does not list its members; the module's additionalCodes are kept")
		userOf = nil
	case err != nil:
		return nil, fmt.Errorf("retailcrm bridge: the PBX's members: %w", err)
	}
	if m.Telephony == nil {
		m.Telephony = &Telephony{}
	}
	t := *m.Telephony
	if userOf != nil {
		t.AdditionalCodes = AdditionalCodes(members, userOf)
	}
	m.Telephony = &t
	info, err := b.CRM.EditIntegrationModule(ctx, code, m)
	if err != nil {
		return nil, err
	}
	if len(info.NotExistUserIDs) > 0 {
		b.log().Warn("retailcrm bridge: the account has no such users", "userIds", info.NotExistUserIDs)
	}
	b.mu.Lock()
	b.members, b.codes, b.Telephony = members, t.AdditionalCodes, &t
	b.mu.Unlock()
	return info, nil
}

// Update is a voip.UpdateFunc: it sends u.Event as a call event and queues
// u.Call for upload. It always returns nil: an error would make the vendor
// deliver the update again, and the event show twice; a failed event is
// logged instead, and a call is queued whatever happens.
func (b *Bridge) Update(ctx context.Context, u voip.Update) error {
	if u.Event != nil {
		b.Event(ctx, *u.Event)
	}
	if u.Call != nil {
		b.Record(*u.Call)
	}
	return nil
}

// Event sends ev as a call event when retailCRM has one for it
// (CallEventFrom) and the module asks for its type, and reports whether it
// was delivered. A failure is logged and not resent. An end event also asks
// Finished for the call's record.
func (b *Bridge) Event(ctx context.Context, ev voip.Event) bool {
	ce, ok := CallEventFrom(ev)
	if !ok {
		return false
	}
	if ce.Type == EventHangup && b.Finished != nil {
		defer b.finished(ctx, ev)
	}
	b.mu.Lock()
	t := b.Telephony
	b.mu.Unlock()
	if t != nil && !t.Supports(ce.Type) {
		return false
	}
	res, err := b.CRM.SendCallEvent(ctx, ce)
	log := b.log().With("call", ce.CallExternalID, "type", string(ce.Type), "codes", ce.Codes)
	switch {
	case errors.Is(err, voip.ErrAmbiguous):
		log.Warn("retailcrm bridge: call event may or may not have arrived; not resent", "err", err)
		return false
	case err != nil:
		log.Error("retailcrm bridge: call event not delivered", "err", err)
		return false
	}
	if len(res.NotExistCodes) > 0 {
		log.Warn("retailcrm bridge: no CRM user has these extensions", "notExistCodes", res.NotExistCodes)
	}
	log.Debug("retailcrm bridge: call event sent")
	return true
}

func (b *Bridge) finished(ctx context.Context, ev voip.Event) {
	calls, err := b.Finished(ctx, ev)
	if err != nil {
		b.log().Error("retailcrm bridge: the record of a finished call was not found; it is not uploaded", "call", ev.CallID, "err", err)
		return
	}
	for _, c := range calls {
		b.Record(c)
	}
}

// Record queues a finished call for upload when retailCRM has a record for
// it (CallRecordFrom), and reports whether it did. A call queued again
// before it was uploaded replaces the first.
func (b *Bridge) Record(c voip.Call) bool {
	rec, ok := CallRecordFrom(c)
	if !ok {
		return false
	}
	if b.RecordURL != "" {
		rec.RecordURL = ""
		if c.ID != "" && (c.RecordingURL != "" || c.Answered()) {
			q := url.Values{"call": {c.ID}, "at": {strconv.FormatInt(c.StartedAt.Unix(), 10)}}
			rec.RecordURL = b.RecordURL + sep(b.RecordURL) + q.Encode()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.RecordURL != "" && c.ID != "" && c.RecordingURL != "" {
		b.remember(c.ID, c.RecordingURL)
	}
	for i := range b.pending {
		if rec.ExternalID != "" && b.pending[i].rec.ExternalID == rec.ExternalID {
			b.pending[i].rec = rec
			return true
		}
	}
	b.pending = append(b.pending, pendingCall{rec: rec})
	if len(b.pending) >= MaxCallsPerUpload {
		select {
		case b.fullChan() <- struct{}{}:
		default:
		}
	}
	return true
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

// remember keeps a call's recording link, forgetting the oldest beyond
// MaxRememberedLinks. The caller holds b.mu.
func (b *Bridge) remember(id, link string) {
	if b.links == nil {
		b.links = map[string]string{}
	}
	if _, ok := b.links[id]; !ok {
		b.order = append(b.order, id)
	}
	b.links[id] = link
	if len(b.order) > MaxRememberedLinks {
		delete(b.links, b.order[0])
		b.order = b.order[1:]
	}
}

// fullChan returns the batch-ready signal. The caller holds b.mu.
func (b *Bridge) fullChan() chan struct{} {
	if b.full == nil {
		b.full = make(chan struct{}, 1)
	}
	return b.full
}

// Pending returns how many calls wait for upload.
func (b *Bridge) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// Flush uploads the queued calls and returns how many retailCRM stored or
// had already. The calls that failed go back to the queue for the next
// Flush, but for those without an id (not safe to send again) and those
// refused for their data (voip.ErrBadRequest) MaxUploadAttempts times,
// which are logged at Error; while retailCRM is unreachable, failing or
// refusing the key, calls wait without counting attempts. The error says
// how many calls are waiting again or were given up. The queue lives in memory and is not bounded: while retailCRM
// is down it grows, and a process that ends without a last Flush loses it.
func (b *Bridge) Flush(ctx context.Context) (int, error) {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	recs := make([]CallRecord, len(batch))
	for i := range batch {
		recs[i] = batch[i].rec
	}
	res, err := b.CRM.UploadCalls(ctx, recs)
	if err == nil {
		b.log().Info("retailcrm bridge: calls uploaded", "calls", len(recs), "stored", res.Processed, "duplicates", len(res.Duplicates))
		return len(recs), nil
	}
	var failed []int
	if ue := (*UploadError)(nil); errors.As(err, &ue) {
		failed = ue.Failed
	} else { // not the client's contract, but never lose the calls
		for i := range recs {
			failed = append(failed, i)
		}
	}
	maxAttempts := b.MaxUploadAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxUploadAttempts
	}
	// Only a refusal of the data counts as an attempt: while retailCRM is
	// unreachable, failing or refusing the key, the calls wait.
	refused := ctx.Err() == nil && errors.Is(err, voip.ErrBadRequest)
	var again []pendingCall
	lost := 0
	for _, i := range failed {
		if i < 0 || i >= len(batch) {
			continue
		}
		p := batch[i]
		if refused {
			p.attempts++
		}
		if p.rec.ExternalID == "" || p.attempts >= maxAttempts {
			lost++
			b.log().Error("retailcrm bridge: call not uploaded, given up", "call", p.rec.ExternalID,
				"date", p.rec.Date, "phone", p.rec.Phone, "attempts", p.attempts, "err", err)
			continue
		}
		again = append(again, p)
	}
	if len(again) > 0 {
		b.mu.Lock()
		b.pending = append(again, b.pending...)
		b.mu.Unlock()
	}
	stored := len(recs) - len(failed)
	b.log().Warn("retailcrm bridge: upload failed in part", "calls", len(recs), "stored", stored,
		"retry", len(again), "givenUp", lost, "err", err)
	return stored, fmt.Errorf("retailcrm bridge: %d of %d calls not uploaded (%d to retry, %d given up): %w",
		len(failed), len(recs), len(again), lost, err)
}

// FlushEvery uploads the queue every d, and at once when it holds
// MaxCallsPerUpload calls, until ctx ends. It does not flush after that:
// call Flush with a fresh context on the way out.
func (b *Bridge) FlushEvery(ctx context.Context, d time.Duration) {
	b.mu.Lock()
	full := b.fullChan()
	b.mu.Unlock()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-full:
		}
		_, _ = b.Flush(ctx) // logged
	}
}

// Consume sends the events of a socket until it closes or ctx ends, and
// returns src.Err() (nil after ctx). A notice of a gap (events may have
// been lost) is logged at Warn: the calls of the gap reach the CRM through
// the history, not as events.
func (b *Bridge) Consume(ctx context.Context, src voip.Source) error {
	notices := src.Notices()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-notices:
			if !ok {
				notices = nil
				continue
			}
			if n.Gap || n.Kind == voip.NoticeStopped {
				b.log().Warn("retailcrm bridge: socket", "notice", n.String())
			} else {
				b.log().Info("retailcrm bridge: socket", "notice", n.String())
			}
		case ev, ok := <-src.Events():
			if !ok {
				return src.Err()
			}
			b.Event(ctx, ev)
		}
	}
}

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
