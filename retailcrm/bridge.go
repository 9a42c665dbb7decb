package retailcrm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

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
	// through Update's voip.Update.Call. It runs apart from the events, on
	// a goroutine of its own bounded by FinishedTimeout, so that a history
	// that is slow to show the call (a retry, say) never holds up the next
	// calls' events; its context outlives a webhook's request. Call Wait
	// before the last Flush.
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

	lookups sync.WaitGroup // Finished calls in flight

	mu      sync.Mutex
	members []voip.Member
	codes   []AdditionalCode
	pending []pendingCall
	full    chan struct{}     // a batch is ready
	links   map[string]string // call id → the vendor's recording link
	order   []string          // the ids of links, oldest first
}

// FinishedTimeout bounds one Finished lookup.
const FinishedTimeout = 30 * time.Second

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
		defer b.lookUp(ctx, ev)
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

// lookUp runs Finished for an end event apart from the events, under a
// context of its own that keeps ctx's values but not its end (a webhook's
// request ends before the history has the call).
func (b *Bridge) lookUp(ctx context.Context, ev voip.Event) {
	b.lookups.Add(1)
	go func() {
		defer b.lookups.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), FinishedTimeout)
		defer cancel()
		b.finished(ctx, ev)
	}()
}

// Wait waits for the Finished lookups in flight, whose records are then
// queued: call it before the last Flush.
func (b *Bridge) Wait() { b.lookups.Wait() }

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
