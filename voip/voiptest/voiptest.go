package voiptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxkit/pbxkit/internal/redact"
	"github.com/pbxkit/pbxkit/voip"
)

// config is what the options set.
type config struct {
	ext, phone      string
	generateCall    bool
	emptyCallIDOK   bool
	recording       *voip.Call
	badCredentials  voip.Provider
	unreachable     voip.Provider
	requests        func() int    // how many requests the vendor has received; nil when unknown
	hangAfter       time.Duration // how long a method may take to notice a dead context
	concurrentCalls int           // goroutines in the Concurrency check
	problems        []string      // invalid options, reported by TestProvider
}

func newConfig(opts []Option) config {
	cfg := config{
		ext:          "101",
		phone:        "+79001234567",
		generateCall: true,
		// A hang detector, not a performance test: a provider that checks
		// ctx answers in microseconds; one that does not waits for the
		// network, or for ever.
		hangAfter:       5 * time.Second,
		concurrentCalls: 4,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	return cfg
}

// Option configures [TestProvider].
type Option func(*config)

// WithCall sets the arguments of GenerateCall: the operator's extension,
// which rings first, and the phone it then dials. The defaults are "101" and
// "+79001234567". Against a real PBX this rings a real phone: use numbers
// you own, or [WithoutGenerateCall].
func WithCall(ext, phone string) Option {
	return func(c *config) {
		if strings.TrimSpace(ext) == "" || strings.TrimSpace(phone) == "" {
			c.problems = append(c.problems, fmt.Sprintf("WithCall(%q, %q): ext and phone must not be empty", ext, phone))
			return
		}
		c.ext, c.phone = ext, phone
	}
}

// WithRecording enables the CallLink check: c is a finished call that has a
// recording, whose link CallLink must return.
func WithRecording(c voip.Call) Option {
	return func(cfg *config) { cfg.recording = &c }
}

// WithBadCredentials enables the BadCredentials check: bad is the same
// provider built with wrong credentials, whose TestConnection must fail with
// a typed authorization error.
func WithBadCredentials(bad voip.Provider) Option {
	return func(c *config) {
		if bad == nil {
			c.problems = append(c.problems, "WithBadCredentials(nil): a provider is required")
			return
		}
		c.badCredentials = bad
	}
}

// WithUnreachable enables the Unreachable check: down is the same provider
// pointed at an address where nothing listens (see [UnreachableURL]), built
// with retries off or short so that the check is quick. Its TestConnection
// and GenerateCall must fail with an error matching voip.ErrUnreachable;
// GenerateCall must not match voip.ErrAmbiguous, since a refused
// connection never reached the vendor.
func WithUnreachable(down voip.Provider) Option {
	return func(c *config) {
		if down == nil {
			c.problems = append(c.problems, "WithUnreachable(nil): a provider is required")
			return
		}
		c.unreachable = down
	}
}

// WithRequests gives the suite a count of the requests the vendor (an
// emulator, say) has received so far. With it the InvalidArguments check
// also proves that a refused argument never reached the vendor.
func WithRequests(count func() int) Option {
	return func(c *config) {
		if count == nil {
			c.problems = append(c.problems, "WithRequests(nil): a counter is required")
			return
		}
		c.requests = count
	}
}

// UnreachableURL returns an http URL on the loopback interface where nothing
// listens: a provider built on it finds its vendor unreachable.
func UnreachableURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("voiptest: UnreachableURL: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("voiptest: UnreachableURL: %v", err)
	}
	return "http://" + addr
}

// WithoutGenerateCall skips every call to GenerateCall, for a real PBX where
// a call would ring a real phone. The GenerateCall and InvalidArguments
// checks are then skipped, CancelledContext checks the other three methods
// only, and Unreachable checks TestConnection only.
func WithoutGenerateCall() Option {
	return func(c *config) { c.generateCall = false }
}

// WithoutCallID lets GenerateCall return an empty call id with a nil error,
// for a vendor that documents that it returns none ([voip.Provider] allows
// it). By default an empty id fails the GenerateCall check, because for most
// vendors it means the response was not read.
func WithoutCallID() Option {
	return func(c *config) { c.emptyCallIDOK = true }
}

// TestProvider checks p against the contract of [voip.Provider]. Each check
// runs as a subtest named after it (see the package documentation); checks
// that need an option are skipped without it. The checks run one after
// another, never in parallel, so that a real PBX sees little load.
func TestProvider(t *testing.T, p voip.Provider, opts ...Option) {
	t.Helper()
	if p == nil {
		t.Fatal("voiptest: TestProvider called with a nil provider")
	}
	cfg := newConfig(opts)
	if len(cfg.problems) > 0 {
		t.Fatalf("voiptest: %s", strings.Join(cfg.problems, "; "))
	}
	for _, c := range checks() {
		t.Run(c.name, func(t *testing.T) {
			t.Helper()
			if why := c.skip(&cfg); why != "" {
				t.Skip(why)
			}
			c.run(t.Context(), t, p, &cfg)
		})
	}
}

// reporter is the part of *testing.T the checks use. It is an interface so
// that the suite's own tests can record failures instead of failing.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// check is one subtest of TestProvider.
type check struct {
	name string
	// skip says why the check does not apply under cfg, or "" when it does.
	skip func(cfg *config) string
	run  func(ctx context.Context, r reporter, p voip.Provider, cfg *config)
}

// checks returns the checks in the order TestProvider runs them. It is a
// function rather than a package variable so that nothing can modify it.
func checks() []check {
	always := func(*config) string { return "" }
	return []check{
		{name: "TestConnection", skip: always, run: checkTestConnection},
		{name: "Members", skip: always, run: checkMembers},
		{name: "GenerateCall", skip: func(c *config) string {
			if !c.generateCall {
				return "WithoutGenerateCall: no call is placed"
			}
			return ""
		}, run: checkGenerateCall},
		{name: "CallLink", skip: func(c *config) string {
			if c.recording == nil {
				return "no WithRecording: no call with a recording to ask about"
			}
			return ""
		}, run: checkCallLink},
		{name: "InvalidArguments", skip: func(c *config) string {
			if !c.generateCall {
				return "WithoutGenerateCall: GenerateCall is never called"
			}
			return ""
		}, run: checkInvalidArguments},
		{name: "CancelledContext", skip: always, run: checkCancelledContext},
		{name: "BadCredentials", skip: func(c *config) string {
			if c.badCredentials == nil {
				return "no WithBadCredentials: no provider with wrong credentials"
			}
			return ""
		}, run: checkBadCredentials},
		{name: "Unreachable", skip: func(c *config) string {
			if c.unreachable == nil {
				return "no WithUnreachable: no provider pointed at a dead address"
			}
			return ""
		}, run: checkUnreachable},
		{name: "Concurrency", skip: always, run: checkConcurrency},
	}
}

// maxReports caps the failures one check reports about a list, so that a
// PBX with hundreds of badly formed members gives a readable failure.
const maxReports = 10

// show formats an error for a failure message, redacting what looks like a
// secret: the message may quote a URL with a token in its query.
func show(err error) string {
	if err == nil {
		return "<nil>"
	}
	var red *redact.Redactor // the name-based rules need no secrets
	return red.String(err.Error())
}

func checkTestConnection(ctx context.Context, r reporter, p voip.Provider, _ *config) {
	r.Helper()
	if err := p.TestConnection(ctx); err != nil {
		r.Errorf("TestConnection: %s; want nil with working credentials", show(err))
	}
}

func checkMembers(ctx context.Context, r reporter, p voip.Provider, _ *config) {
	r.Helper()
	members, err := p.Members(ctx)
	switch {
	case errors.Is(err, voip.ErrNotSupported):
		r.Logf("Members: not supported")
		return
	case err != nil:
		r.Errorf("Members: %s; want a list, or an error matching voip.ErrNotSupported", show(err))
		return
	}
	r.Logf("Members: %d members", len(members))

	var problems []string
	first := make(map[string]int, len(members)) // ID → index of its first member
	for i, m := range members {
		switch j, dup := first[m.ID]; {
		case m.ID == "":
			problems = append(problems, fmt.Sprintf("member %d (%+v) has an empty ID", i, m))
		case dup:
			problems = append(problems, fmt.Sprintf("members %d and %d have the same ID %q", j, i, m.ID))
		default:
			first[m.ID] = i
		}
		for _, f := range [...]struct{ name, value string }{
			{"ID", m.ID}, {"Name", m.Name}, {"Ext", m.Ext}, {"Email", m.Email},
		} {
			if f.value != strings.TrimSpace(f.value) {
				problems = append(problems, fmt.Sprintf("member %d has %s %q, with surrounding whitespace: trim it", i, f.name, f.value))
			}
		}
	}
	reportAll(r, "Members", problems)
}

// reportAll reports each problem, at most maxReports of them.
func reportAll(r reporter, method string, problems []string) {
	r.Helper()
	for i, p := range problems {
		if i == maxReports {
			r.Errorf("%s: and %d more problems", method, len(problems)-maxReports)
			return
		}
		r.Errorf("%s: %s", method, p)
	}
}

func checkGenerateCall(ctx context.Context, r reporter, p voip.Provider, cfg *config) {
	r.Helper()
	id, err := p.GenerateCall(ctx, cfg.ext, cfg.phone)
	switch {
	case errors.Is(err, voip.ErrNotSupported):
		r.Logf("GenerateCall: not supported")
	case err != nil:
		r.Errorf("GenerateCall(%q, %q): %s; want a call id, or an error matching voip.ErrNotSupported", cfg.ext, cfg.phone, show(err))
	case id == "" && !cfg.emptyCallIDOK:
		r.Errorf("GenerateCall(%q, %q) returned an empty call id and no error; "+
			"want the vendor's id of the call (use WithoutCallID if the vendor returns none)", cfg.ext, cfg.phone)
	default:
		r.Logf("GenerateCall: call id %q", id)
	}
}

func checkCallLink(ctx context.Context, r reporter, p voip.Provider, cfg *config) {
	r.Helper()
	link, err := p.CallLink(ctx, *cfg.recording)
	switch {
	case errors.Is(err, voip.ErrNotSupported):
		r.Logf("CallLink: not supported")
		return
	case err != nil:
		r.Errorf("CallLink(call %q): %s; want a URL, or an error matching voip.ErrNotSupported", cfg.recording.ID, show(err))
		return
	}
	var red *redact.Redactor
	u, err := url.Parse(link)
	switch {
	case err != nil:
		r.Errorf("CallLink(call %q) returned %q, which is not a URL: %s", cfg.recording.ID, red.String(link), show(err))
	case !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		r.Errorf("CallLink(call %q) returned %q; want an absolute http or https URL", cfg.recording.ID, red.URL(u))
	}
}

// garbagePhones are numbers no vendor may be sent: words, letters, nothing,
// more digits than any number has, an extension written into the number.
var garbagePhones = []string{"not a phone", "+7 abc", "", "   ", "+7 916 123-45-67-89-01-23", "8 916 123-45-67 доб. 5"}

func checkInvalidArguments(ctx context.Context, r reporter, p voip.Provider, cfg *config) {
	r.Helper()
	before := 0
	if cfg.requests != nil {
		before = cfg.requests()
	}
	for _, phone := range garbagePhones {
		_, err := p.GenerateCall(ctx, cfg.ext, phone)
		switch {
		case errors.Is(err, voip.ErrNotSupported):
			r.Logf("InvalidArguments: GenerateCall not supported")
			return
		case err == nil:
			r.Errorf("GenerateCall(%q, %q) succeeded; want an error matching voip.ErrInvalidPhone and voip.ErrBadRequest", cfg.ext, phone)
		case !errors.Is(err, voip.ErrInvalidPhone) || !errors.Is(err, voip.ErrBadRequest):
			r.Errorf("GenerateCall(%q, %q) returned %q (%T); want an error matching voip.ErrInvalidPhone and voip.ErrBadRequest",
				cfg.ext, phone, show(err), err)
		}
		checkArgError(r, "GenerateCall", cfg.ext, phone, err)
	}
	for _, ext := range []string{"", "  "} {
		_, err := p.GenerateCall(ctx, ext, cfg.phone)
		switch {
		case err == nil:
			r.Errorf("GenerateCall(%q, %q) succeeded; want an error matching voip.ErrBadRequest", ext, cfg.phone)
		case !errors.Is(err, voip.ErrBadRequest):
			r.Errorf("GenerateCall(%q, %q) returned %q (%T); want an error matching voip.ErrBadRequest", ext, cfg.phone, show(err), err)
		}
		checkArgError(r, "GenerateCall", ext, cfg.phone, err)
	}
	if cfg.requests != nil {
		if n := cfg.requests() - before; n != 0 {
			r.Errorf("GenerateCall with invalid arguments sent %d requests to the vendor; want none: refuse them before sending", n)
		}
	}
}

// checkArgError reports an argument error that is not a *voip.ArgError
// naming its vendor.
func checkArgError(r reporter, method, ext, phone string, err error) {
	r.Helper()
	if err == nil || !errors.Is(err, voip.ErrBadRequest) {
		return // reported already
	}
	var argErr *voip.ArgError
	switch {
	case !errors.As(err, &argErr):
		r.Errorf("%s(%q, %q) returned %q (%T); want it to wrap a *voip.ArgError", method, ext, phone, show(err), err)
	case argErr.Vendor == "" || argErr.Arg == "":
		r.Errorf("%s(%q, %q) returned a *voip.ArgError without its Vendor or Arg: %q", method, ext, phone, show(err))
	}
}

func checkUnreachable(ctx context.Context, r reporter, _ voip.Provider, cfg *config) {
	r.Helper()
	down := cfg.unreachable
	err, ok := callWithin(unreachableLimit, func() error { return down.TestConnection(ctx) })
	switch {
	case !ok:
		r.Errorf("TestConnection of an unreachable vendor did not return within %v; build it with retries off", unreachableLimit)
		return
	case err == nil:
		r.Errorf("TestConnection of an unreachable vendor succeeded")
	case !errors.Is(err, voip.ErrUnreachable):
		r.Errorf("TestConnection of an unreachable vendor returned %q (%T); want an error matching voip.ErrUnreachable", show(err), err)
	}
	if !cfg.generateCall {
		return
	}
	err, ok = callWithin(unreachableLimit, func() error { _, err := down.GenerateCall(ctx, cfg.ext, cfg.phone); return err })
	switch {
	case !ok:
		r.Errorf("GenerateCall to an unreachable vendor did not return within %v; build it with retries off", unreachableLimit)
	case errors.Is(err, voip.ErrNotSupported):
	case err == nil:
		r.Errorf("GenerateCall to an unreachable vendor succeeded")
	case !errors.Is(err, voip.ErrUnreachable):
		r.Errorf("GenerateCall to an unreachable vendor returned %q (%T); want an error matching voip.ErrUnreachable", show(err), err)
	case errors.Is(err, voip.ErrAmbiguous):
		r.Errorf("GenerateCall to an unreachable vendor returned %q, which matches voip.ErrAmbiguous; "+
			"a refused connection never reached the vendor", show(err))
	}
}

// unreachableLimit bounds the Unreachable check's calls: a refused
// connection fails in microseconds, so only retries with long waits or a
// provider that ignores the failure take longer.
const unreachableLimit = 20 * time.Second

// method is one Provider method bound to its arguments.
type method struct {
	name string
	call func(ctx context.Context) error
}

// methods returns the Provider methods to call with a dead context.
// GenerateCall is left out under WithoutGenerateCall: a provider that ignores
// its context would ring a phone.
func methods(p voip.Provider, cfg *config) []method {
	rec := voip.Call{ // any plausible call: the context must fail first
		ID:        "voiptest-1",
		Direction: voip.DirectionIn,
		Client:    cfg.phone,
		Ext:       cfg.ext,
		StartedAt: time.Date(2023, 5, 1, 12, 14, 13, 0, time.UTC),
		Duration:  time.Minute,
		Talk:      50 * time.Second,
	}
	if cfg.recording != nil {
		rec = *cfg.recording
	}
	ms := []method{
		{"TestConnection", p.TestConnection},
		{"Members", func(ctx context.Context) error { _, err := p.Members(ctx); return err }},
	}
	if cfg.generateCall {
		ms = append(ms, method{"GenerateCall", func(ctx context.Context) error {
			_, err := p.GenerateCall(ctx, cfg.ext, cfg.phone)
			return err
		}})
	}
	return append(ms, method{"CallLink", func(ctx context.Context) error {
		_, err := p.CallLink(ctx, rec)
		return err
	}})
}

func checkCancelledContext(ctx context.Context, r reporter, p voip.Provider, cfg *config) {
	r.Helper()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Minute))
	defer cancel()

	hung := map[string]bool{} // methods that hung once, not to be waited for twice
	for _, dead := range [...]struct {
		what string
		ctx  context.Context
		want error
	}{
		{"cancelled context", cancelled, context.Canceled},
		{"context past its deadline", expired, context.DeadlineExceeded},
	} {
		for _, m := range methods(p, cfg) {
			if hung[m.name] {
				continue
			}
			err, ok := callWithin(cfg.hangAfter, func() error { return m.call(dead.ctx) })
			switch {
			case !ok:
				hung[m.name] = true
				r.Errorf("%s with a %s did not return within %v; it must give up as soon as ctx is done",
					m.name, dead.what, cfg.hangAfter)
			case errors.Is(err, dead.want), errors.Is(err, voip.ErrNotSupported):
			case err == nil:
				r.Errorf("%s with a %s returned no error; want an error matching %v", m.name, dead.what, dead.want)
			default:
				r.Errorf("%s with a %s returned %q (%T); want an error matching %v: wrap ctx.Err() with %%w",
					m.name, dead.what, show(err), err, dead.want)
			}
		}
	}
}

// callWithin runs f and waits at most limit for it. When f hangs, its
// goroutine is left behind: there is no way to stop it, and the test is
// failing anyway.
func callWithin(limit time.Duration, f func() error) (err error, ok bool) {
	done := make(chan error, 1) // buffered, so a late f does not block for ever
	go func() { done <- f() }()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-done:
		return err, true
	case <-timer.C:
		return nil, false
	}
}

func checkBadCredentials(ctx context.Context, r reporter, _ voip.Provider, cfg *config) {
	r.Helper()
	err := cfg.badCredentials.TestConnection(ctx)
	if err == nil {
		r.Errorf("TestConnection with bad credentials succeeded; want an error matching voip.ErrUnauthorized or voip.ErrForbidden")
		return
	}
	if !errors.Is(err, voip.ErrUnauthorized) && !errors.Is(err, voip.ErrForbidden) {
		r.Errorf("TestConnection with bad credentials returned %q (%T); want an error matching voip.ErrUnauthorized or voip.ErrForbidden",
			show(err), err)
	}
	var apiErr *voip.APIError
	switch {
	case !errors.As(err, &apiErr):
		r.Errorf("TestConnection with bad credentials returned %q (%T); want it to wrap a *voip.APIError", show(err), err)
	case apiErr.Vendor == "":
		r.Errorf("TestConnection with bad credentials returned a *voip.APIError with an empty Vendor: %q", show(err))
	}
	switch msg := err.Error(); {
	case strings.TrimSpace(msg) == "":
		r.Errorf("TestConnection with bad credentials returned an error (%T) with an empty message", err)
	case strings.Contains(msg, "%!"):
		r.Errorf("TestConnection with bad credentials returned an error with a formatting artefact (a bad %% verb): %q", show(err))
	}
}

func checkConcurrency(ctx context.Context, r reporter, p voip.Provider, cfg *config) {
	r.Helper()
	n := cfg.concurrentCalls
	errs := make([]error, 2*n) // one slot per call, so no locking is needed
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start // release every goroutine at once, to maximise overlap
			errs[2*i] = p.TestConnection(ctx)
			if _, err := p.Members(ctx); !errors.Is(err, voip.ErrNotSupported) {
				errs[2*i+1] = err
			}
		}()
	}
	close(start)
	wg.Wait()

	var problems []string
	for i, err := range errs {
		if err != nil {
			name := [...]string{"TestConnection", "Members"}[i%2]
			problems = append(problems, fmt.Sprintf("%s in goroutine %d of %d: %s", name, i/2+1, n, show(err)))
		}
	}
	reportAll(r, "called concurrently", problems)
}
