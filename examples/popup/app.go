package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pbxkit/pbxkit/phonet"
	"github.com/pbxkit/pbxkit/voip"
)

//go:embed web
var webFiles embed.FS

var pages = template.Must(template.ParseFS(webFiles, "web/*.html"))

// Timeouts of the app's calls to the PBX.
const (
	dialTimeout   = 30 * time.Second
	recordTimeout = 30 * time.Second
	// keepAlive is how often an idle event stream gets a comment, so that
	// proxies do not close it.
	keepAlive = 15 * time.Second
)

// card is what a manager's page shows of one call. Times are written in
// the manager's zone.
type card struct {
	CallID      string `json:"call_id"`
	Direction   string `json:"direction"` // in, out, internal, unknown
	Client      string `json:"client"`    // E.164 when it is a number
	Customer    string `json:"customer"`  // the CRM's name, "" for a new customer
	Line        string `json:"line,omitempty"`
	State       string `json:"state"` // ringing, answered, ended
	Disposition string `json:"disposition,omitempty"`
	Talk        string `json:"talk,omitempty"` // m:ss
	Recording   string `json:"recording,omitempty"`
	Started     string `json:"started,omitempty"`
	Answered    string `json:"answered,omitempty"`
	Ended       string `json:"ended,omitempty"`
	StartedFull string `json:"started_full,omitempty"` // date, time and zone

	startAt, answerAt, endAt time.Time
	talk                     time.Duration
}

// gapNotice is the "may have missed calls" banner's message.
type gapNotice struct {
	At  string `json:"at"`
	Why string `json:"why"`
}

// app is the pop-up server: it takes the PBX's live events and finished
// calls, keeps each manager's feed, and serves the pages, their event
// streams and the click-to-call.
type app struct {
	crm      *crm
	provider voip.Provider
	log      *slog.Logger

	ctx    context.Context // ends when the app closes: event streams end, work stops
	cancel context.CancelFunc
	work   sync.WaitGroup // recording look-ups under way
	mu     sync.Mutex
	closed bool // guarded by mu: no work starts any more

	// recordOf finds the record of a call that ended, for a PBX whose
	// events carry no outcome (Phonet); nil when records arrive by themselves.
	recordOf func(ctx context.Context, end voip.Event) ([]voip.Call, error)

	feeds map[string]*feed // by extension; fixed at start
	mux   *http.ServeMux
}

// newApp makes the app for the CRM's managers. Close it when done.
func newApp(c *crm, p voip.Provider, logger *slog.Logger) *app {
	a := &app{crm: c, provider: p, log: logger, feeds: map[string]*feed{}, mux: http.NewServeMux()}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	for _, m := range c.managerList() {
		a.feeds[m.Ext] = newFeed(m.Ext)
	}
	static, _ := fs.Sub(webFiles, "web")
	a.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	a.mux.HandleFunc("GET /{$}", a.index)
	a.mux.HandleFunc("GET /m/{ext}", a.page)
	a.mux.HandleFunc("GET /m/{ext}/events", a.events)
	a.mux.HandleFunc("POST /m/{ext}/call", a.dial)
	return a
}

// Handle mounts a handler, such as a PBX's webhook, on the app's mux.
func (a *app) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	a.mux.ServeHTTP(w, r)
}

// Close ends the event streams and waits for the work under way.
func (a *app) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.work.Wait()
}

func (a *app) feed(ext string) (*feed, bool) {
	f, ok := a.feeds[ext]
	return f, ok
}

// update takes what a webhook delivery carries.
func (a *app) update(_ context.Context, u voip.Update) error {
	if u.Event != nil {
		a.event(*u.Event)
	}
	if u.Call != nil {
		a.record(*u.Call)
	}
	return nil
}

// event shows a live event on the card of its call, on its manager's page
// only. An event of an extension that is no manager's is dropped.
func (a *app) event(ev voip.Event) {
	if ev.Ext == "" {
		ev.Ext = a.owner(ev.CallID)
	}
	f, ok := a.feed(ev.Ext)
	if !ok {
		a.log.Debug("event of no manager", "ext", ev.Ext, "kind", ev.Kind)
		return
	}
	m, _ := a.crm.manager(ev.Ext)
	at := ev.At
	if at.IsZero() {
		at = time.Now()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cardLocked(callKey(ev.CallID))
	a.fill(c, ev.Client, ev.Line, ev.Direction)
	switch ev.Kind {
	case voip.EventStart:
		if c.State == "" {
			c.State = "ringing"
		}
		c.startAt = at
	case voip.EventAnswer:
		if c.State != "ended" {
			c.State = "answered"
		}
		c.answerAt = at
	case voip.EventEnd:
		c.State, c.endAt = "ended", at
		if ev.Disposition != voip.DispositionUnknown {
			c.Disposition = ev.Disposition.String()
		}
		if c.talk == 0 && !c.answerAt.IsZero() && at.After(c.answerAt) {
			c.talk = at.Sub(c.answerAt)
		}
		if a.recordOf != nil {
			a.finished(ev)
		}
	default:
		return
	}
	a.publishCardLocked(f, c, m.Zone)
}

// record shows a finished call's outcome and, once the PBX gives it, the
// link of its recording.
func (a *app) record(call voip.Call) {
	if call.Ext == "" {
		call.Ext = a.owner(call.ID)
	}
	f, ok := a.feed(call.Ext)
	if !ok {
		a.log.Debug("record of no manager", "ext", call.Ext)
		return
	}
	m, _ := a.crm.manager(call.Ext)
	f.mu.Lock()
	c := f.cardLocked(callKey(call.ID))
	a.fill(c, call.Client, call.Line, call.Direction)
	c.State = "ended"
	c.Disposition = call.Disposition.String()
	if c.startAt.IsZero() {
		c.startAt = call.StartedAt
	}
	if call.Answered() && call.Talk > 0 {
		c.talk = call.Talk
	}
	a.publishCardLocked(f, c, m.Zone)
	f.mu.Unlock()
	if !call.Answered() {
		return
	}
	a.async(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, recordTimeout)
		defer cancel()
		link, err := a.provider.CallLink(ctx, call)
		if err != nil {
			a.log.Info("no recording link", "call", call.ID, "error", err)
			return
		}
		if !webLink(link) {
			a.log.Info("recording link is no web address", "call", call.ID)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if c, ok := f.cards[callKey(call.ID)]; ok {
			c.Recording = link
			a.publishCardLocked(f, c, m.Zone)
		}
	})
}

// owner returns the manager whose page shows the call id, for an event
// or a record that does not name the extension (New-Tel's end of a call
// nobody answered), or "".
func (a *app) owner(id string) string {
	key := callKey(id)
	for ext, f := range a.feeds {
		f.mu.Lock()
		_, ok := f.cards[key]
		f.mu.Unlock()
		if ok {
			return ext
		}
	}
	return ""
}

// finished looks up the record of a call that ended, for a PBX whose
// events carry no outcome (Phonet's and Webitel's sockets).
func (a *app) finished(end voip.Event) {
	a.async(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, recordTimeout)
		defer cancel()
		calls, err := a.recordOf(ctx, end)
		if err != nil {
			a.log.Info("no record of the call", "call", end.CallID, "error", err)
			return
		}
		for _, c := range calls {
			if c.Ext == "" {
				c.Ext = end.Ext
			}
			c.ID = end.CallID // the history may spell it otherwise
			a.record(c)
		}
	})
}

// async runs fn in the background, for at most the app's life.
func (a *app) async(fn func(ctx context.Context)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.work.Go(func() { fn(a.ctx) })
}

// gap puts the "may have missed calls" banner on the page of the manager
// with ext, or on every page when ext is "".
func (a *app) gap(ext, why string) {
	now := time.Now()
	for e, f := range a.feeds {
		if ext != "" && e != ext {
			continue
		}
		m, _ := a.crm.manager(e)
		data, _ := json.Marshal(gapNotice{At: now.In(m.Zone).Format("15:04:05"), Why: why})
		f.mu.Lock()
		f.publishLocked("gap", data)
		f.mu.Unlock()
	}
}

// consume reads a Source until it stops or ctx ends: events go to their
// manager's page, a gap to the banner.
func (a *app) consume(ctx context.Context, src voip.Source) error {
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
			a.log.Info("pbx stream", "notice", n.String())
			if n.Gap {
				a.gap(n.Subscriber, "the connection to the PBX was interrupted")
			}
		case ev, ok := <-src.Events():
			if !ok {
				return src.Err()
			}
			a.event(ev)
		}
	}
}

// fill sets the parties of a card the first time they are known, with the
// customer from the CRM.
func (a *app) fill(c *card, client, line string, dir voip.Direction) {
	if c.Client == "" && client != "" {
		c.Client = client
		if cu, ok := a.crm.customer(client); ok {
			c.Customer = cu.Name
		}
	}
	if c.Line == "" {
		c.Line = line
	}
	if c.Direction == "" || c.Direction == "unknown" {
		c.Direction = dir.String()
	}
}

// publishCardLocked writes the card's times in zone and sends its state.
// The caller holds f.mu.
func (a *app) publishCardLocked(f *feed, c *card, zone *time.Location) {
	clock := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(zone).Format("15:04:05")
	}
	c.Started, c.Answered, c.Ended = clock(c.startAt), clock(c.answerAt), clock(c.endAt)
	if !c.startAt.IsZero() {
		c.StartedFull = c.startAt.In(zone).Format("2006-01-02 15:04:05 MST")
	}
	c.Talk = ""
	if c.talk > 0 {
		s := int(c.talk.Round(time.Second) / time.Second)
		c.Talk = fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	data, err := json.Marshal(c)
	if err != nil {
		a.log.Error("card", "error", err)
		return
	}
	f.publishLocked("call", data)
}

// callKey is the id a card is kept under: Phonet's history writes the
// uuids of its events with dashes.
func callKey(id string) string { return phonet.NormalizeUUID(id) }

// webLink reports whether s is an http or https URL, the only links a
// page shows.
func webLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// index lists the managers' pages.
func (a *app) index(w http.ResponseWriter, _ *http.Request) {
	a.render(w, "index.html", struct{ Managers []manager }{a.crm.managerList()})
}

// page is a manager's pop-up page.
func (a *app) page(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("ext")
	if _, ok := a.feed(ext); !ok {
		http.NotFound(w, r)
		return
	}
	m, _ := a.crm.manager(ext)
	a.render(w, "manager.html", struct {
		Manager manager
		Zone    string
	}{m, m.Zone.String()})
}

func (a *app) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		a.log.Error("page", "template", name, "error", err)
	}
}

// events is a manager's Server-Sent Events stream. A page that reconnects
// sends Last-Event-ID and gets what it missed; one too far behind gets a
// gap notice first.
func (a *app) events(w http.ResponseWriter, r *http.Request) {
	f, ok := a.feed(r.PathValue("ext"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	rc := http.NewResponseController(w)
	last, err := strconv.ParseUint(strings.TrimSpace(r.Header.Get("Last-Event-ID")), 10, 64)
	resumed := err == nil
	wake, stop := f.wait() // before reading the log: nothing published in between is lost
	defer stop()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil {
		return
	}
	idle := time.NewTicker(keepAlive)
	defer idle.Stop()
	for {
		msgs, missed := f.since(last, resumed)
		resumed = true
		if missed {
			m, _ := a.crm.manager(f.ext)
			data, _ := json.Marshal(gapNotice{At: time.Now().In(m.Zone).Format("15:04:05"),
				Why: "this page was away too long"})
			// Without an id: the page's Last-Event-ID stays.
			if err := (message{Event: "gap", Data: data}).writeTo(w); err != nil {
				return
			}
			last = 0 // the log follows from its start
		}
		for _, m := range msgs {
			if err := m.writeTo(w); err != nil {
				return
			}
			last = m.ID
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if !a.await(r.Context(), wake, idle, w, rc) {
			return
		}
	}
}

// await waits for a message on the feed, and writes a keep-alive comment
// meanwhile; false means the stream ends.
func (a *app) await(ctx context.Context, wake <-chan struct{}, idle *time.Ticker, w io.Writer, rc *http.ResponseController) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-a.ctx.Done():
			return false
		case <-wake:
			return true
		case <-idle.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return false
			}
		}
	}
}

// dialReply is the click-to-call's answer to the page. State is
// "ringing" (the PBX took the call), "maybe" (the outcome is unknown: the
// call may be ringing, and it was not retried), "busy" (a call of this
// manager is being placed) or "failed".
type dialReply struct {
	State   string `json:"state"`
	Message string `json:"message"`
	CallID  string `json:"call_id,omitempty"`
}

// dial places a click-to-call from the manager's extension: the PBX rings
// the manager, then the number. It is sent once, whatever happens: an
// ambiguous failure is reported as "the call may be ringing", never
// retried. The body is JSON, {"phone": "..."}, which a cross-site form
// cannot post.
func (a *app) dial(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("ext")
	f, ok := a.feed(ext)
	if !ok {
		http.NotFound(w, r)
		return
	}
	var req struct {
		Phone string `json:"phone"`
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		voip.WriteJSON(w, http.StatusUnsupportedMediaType, dialReply{State: "failed", Message: "send JSON"})
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil || strings.TrimSpace(req.Phone) == "" {
		voip.WriteJSON(w, http.StatusBadRequest, dialReply{State: "failed", Message: "type a phone number"})
		return
	}
	f.mu.Lock()
	busy := f.dialing
	f.dialing = true
	f.mu.Unlock()
	if busy {
		voip.WriteJSON(w, http.StatusConflict, dialReply{State: "busy", Message: "a call is being placed already"})
		return
	}
	defer func() {
		f.mu.Lock()
		f.dialing = false
		f.mu.Unlock()
	}()

	// The request goes out whole even if the page goes away meanwhile: a
	// call cut off half-way is the ambiguous case.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), dialTimeout)
	defer cancel()
	id, err := a.provider.GenerateCall(ctx, ext, req.Phone)
	status, reply := dialOutcome(id, err)
	if err != nil {
		a.log.Warn("click-to-call", "ext", ext, "state", reply.State, "error", err)
	}
	voip.WriteJSON(w, status, reply)
}

// dialOutcome turns GenerateCall's result into the page's reply. Error
// texts stay in the log: the page gets a sentence a manager can act on.
func dialOutcome(id string, err error) (int, dialReply) {
	switch {
	case err == nil:
		return http.StatusOK, dialReply{State: "ringing", Message: "ringing: pick up your phone", CallID: id}
	case errors.Is(err, voip.ErrAmbiguous):
		return http.StatusAccepted, dialReply{State: "maybe",
			Message: "the call may be ringing: the PBX did not say. Check your phone before you call again."}
	case errors.Is(err, voip.ErrInvalidPhone):
		return http.StatusBadRequest, dialReply{State: "failed", Message: "this is not a phone number"}
	case errors.Is(err, voip.ErrBadRequest):
		return http.StatusBadRequest, dialReply{State: "failed", Message: "the PBX refused the call: check the number"}
	case errors.Is(err, voip.ErrUnauthorized), errors.Is(err, voip.ErrForbidden):
		return http.StatusBadGateway, dialReply{State: "failed", Message: "the PBX refused the app's credentials"}
	case errors.Is(err, voip.ErrNotSupported):
		return http.StatusNotImplemented, dialReply{State: "failed", Message: "this PBX has no click-to-call"}
	}
	return http.StatusBadGateway, dialReply{State: "failed", Message: "the call was not placed; try again"}
}

// watching reports whether a page of ext is connected.
func (a *app) watching(ext string) bool {
	f, ok := a.feed(ext)
	if !ok {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters) > 0
}
