package voiptest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pbxkit/pbxkit/voip"
)

func TestMain(m *testing.M) {
	// The suite starts goroutines (callWithin, Concurrency); none may
	// outlive the tests, the hanging fake's included once it is released.
	goleak.VerifyTestMain(m)
}

// fake is a provider whose behaviour each test case bends one way. The zero
// value plus goodMembers is a provider that keeps the whole contract.
type fake struct {
	members      []voip.Member
	membersErr   error
	callID       string
	link         string
	connErr      error
	notSupported bool // Members, GenerateCall and CallLink are not supported

	// What to do with a dead context: by default, return an error that
	// wraps ctx.Err().
	ignoreCtx   bool          // carry on as if it were alive
	wrongCtxErr bool          // return an error that does not wrap ctx.Err()
	hang        chan struct{} // block until it is closed

	// How GenerateCall treats its arguments: by default it refuses what is
	// not a phone with a *voip.ArgError before "sending" anything.
	sendsGarbage  bool // no check: the PBX is asked to dial anything
	untypedArgErr bool // refused with a plain error
	checksLate    bool // refused, but only after the request went out

	// down makes every method fail as an unreachable vendor would;
	// downErr replaces the typed error.
	down    bool
	downErr error

	// exclusive makes the fake refuse a second call while one is in
	// flight, like a client with a single session.
	exclusive bool
	busy      sync.Mutex

	mu    sync.Mutex
	calls map[string]int // method name → calls
	sent  atomic.Int32   // requests that reached the "vendor"
}

// unreachable is the error of a vendor nobody answers for.
var unreachable = &voip.APIError{Vendor: "fake", Method: "POST", URL: "http://127.0.0.1:9/api",
	Kind: voip.ErrUnreachable, Err: errors.New("dial tcp 127.0.0.1:9: connect: connection refused")}

func newDown() *fake {
	f := newGood()
	f.down = true
	return f
}

var goodMembers = []voip.Member{
	{ID: "1", Name: "Иван Петров", Ext: "101", Email: "ivan@example.com"},
	{ID: "2", Name: "Олена Коваленко", Ext: "102"},
	{ID: "3", Ext: "103"},
}

func newGood() *fake {
	return &fake{
		members: goodMembers,
		callID:  "call-42",
		link:    "https://records.pbx.example/2023/05/01/call-42.mp3?expires=1682946853",
	}
}

// enter is where every method starts: it counts the call and plays the
// fake's part with the context.
func (f *fake) enter(ctx context.Context, name string) error {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
	f.mu.Unlock()

	if err := ctx.Err(); err != nil {
		switch {
		case f.hang != nil:
			<-f.hang
			return fmt.Errorf("fake: %s: %w", name, err)
		case f.wrongCtxErr:
			return errors.New("fake: request aborted")
		case !f.ignoreCtx:
			return fmt.Errorf("fake: %s: %w", name, err)
		}
	}
	if f.exclusive {
		if !f.busy.TryLock() {
			return errors.New("fake: session busy")
		}
		// Hold the session long enough for the other goroutines to collide.
		time.Sleep(50 * time.Millisecond)
		f.busy.Unlock()
	}
	return nil
}

func (f *fake) called(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fake) TestConnection(ctx context.Context) error {
	if err := f.enter(ctx, "TestConnection"); err != nil {
		return err
	}
	if f.down {
		return f.unreachableErr()
	}
	f.sent.Add(1)
	return f.connErr
}

func (f *fake) unreachableErr() error {
	if f.downErr != nil {
		return f.downErr
	}
	return unreachable
}

func (f *fake) Members(ctx context.Context) ([]voip.Member, error) {
	if err := f.enter(ctx, "Members"); err != nil {
		return nil, err
	}
	if f.down {
		return nil, f.unreachableErr()
	}
	if f.notSupported {
		return nil, &voip.APIError{Vendor: "fake", Kind: voip.ErrNotSupported}
	}
	if f.membersErr != nil {
		return nil, f.membersErr
	}
	return slices.Clone(f.members), nil
}

func (f *fake) GenerateCall(ctx context.Context, ext, phone string) (string, error) {
	if err := f.enter(ctx, "GenerateCall"); err != nil {
		return "", err
	}
	if f.notSupported {
		return "", fmt.Errorf("fake: click-to-call: %w", voip.ErrNotSupported)
	}
	if f.down {
		return "", f.unreachableErr()
	}
	if f.checksLate {
		f.sent.Add(1)
	}
	if !f.sendsGarbage {
		if strings.TrimSpace(ext) == "" {
			return "", f.argErr("ext", errors.New("empty"))
		}
		if _, err := voip.NormalizePhone(phone, "RU"); err != nil {
			return "", f.argErr("phone", err)
		}
	}
	if !f.checksLate {
		f.sent.Add(1)
	}
	return f.callID, nil
}

func (f *fake) argErr(arg string, err error) error {
	if f.untypedArgErr {
		return fmt.Errorf("fake: %s: %w", arg, err)
	}
	return &voip.ArgError{Vendor: "fake", Func: "GenerateCall", Arg: arg, Err: err}
}

func (f *fake) CallLink(ctx context.Context, _ voip.Call) (string, error) {
	if err := f.enter(ctx, "CallLink"); err != nil {
		return "", err
	}
	if f.notSupported {
		return "", voip.ErrNotSupported
	}
	return f.link, nil
}

// badCreds returns a provider whose TestConnection fails with err.
func badCreds(err error) *fake {
	f := newGood()
	f.connErr = err
	return f
}

var (
	unauthorized = &voip.APIError{
		Vendor: "fake", StatusCode: 401, Method: "GET",
		URL: "https://pbx.example/api/v1/ping", Message: "invalid api key",
	}
	forbidden = &voip.APIError{
		Vendor: "fake", StatusCode: 200, Code: "ACCESS_DENIED",
		Message: "the key lacks the API permission", Kind: voip.ErrForbidden,
	}
	recording = voip.Call{ID: "call-42", Vendor: "fake", RecordingURL: "https://records.pbx.example/call-42.mp3"}
)

// withHangAfter shortens the hang detector, so that the hanging fake costs
// milliseconds.
func withHangAfter(d time.Duration) Option {
	return func(c *config) { c.hangAfter = d }
}

// recorder is a reporter that records failures instead of failing.
type recorder struct {
	mu     sync.Mutex
	errors []string
	logs   []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

// runChecks runs the checks that apply under opts against p, like
// TestProvider, and returns the failures of each check that reported some.
func runChecks(t *testing.T, p voip.Provider, opts ...Option) map[string][]string {
	t.Helper()
	cfg := newConfig(opts)
	require.Empty(t, cfg.problems)
	failed := map[string][]string{}
	for _, c := range checks() {
		if c.skip(&cfg) != "" {
			continue
		}
		var r recorder
		c.run(t.Context(), &r, p, &cfg)
		if len(r.errors) > 0 {
			failed[c.name] = r.errors
		}
	}
	return failed
}

func TestChecksCatchFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    func(t *testing.T) voip.Provider
		opts []Option
		// want names the checks that must fail, and nothing else may.
		want []string
		// msg is a substring of the failures of want[0].
		msg string
		// artefact is set when the fault is a "%!" artefact, which the
		// failure message then quotes.
		artefact bool
	}{
		{
			name: "good",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithRecording(recording), WithBadCredentials(badCreds(unauthorized))},
		},
		{
			name: "good, forbidden",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithBadCredentials(badCreds(forbidden))},
		},
		{
			name: "good, no members",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.members = nil
				return f
			},
		},
		{
			name: "good, nothing supported but TestConnection",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.notSupported = true
				return f
			},
			opts: []Option{WithRecording(recording)},
		},
		{
			name: "good, vendor returns no call id",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.callID = ""
				return f
			},
			opts: []Option{WithoutCallID()},
		},
		{
			name: "connection fails",
			p: func(*testing.T) voip.Provider {
				return badCreds(&voip.APIError{Vendor: "fake", StatusCode: 503})
			},
			want: []string{"TestConnection", "Concurrency"},
			msg:  "503 Service Unavailable",
		},
		{
			name: "members fail",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.membersErr = &voip.APIError{Vendor: "fake", StatusCode: 500}
				return f
			},
			want: []string{"Members", "Concurrency"},
			msg:  "500 Internal Server Error",
		},
		{
			name: "empty member ID",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.members = append(slices.Clone(goodMembers), voip.Member{Name: "Гость", Ext: "199"})
				return f
			},
			want: []string{"Members"},
			msg:  "member 3",
		},
		{
			name: "duplicate member IDs",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.members = append(slices.Clone(goodMembers), voip.Member{ID: "2", Ext: "202"})
				return f
			},
			want: []string{"Members"},
			msg:  `members 1 and 3 have the same ID "2"`,
		},
		{
			name: "padded member name",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.members = []voip.Member{{ID: "1", Name: "Иван  ", Ext: "101"}}
				return f
			},
			want: []string{"Members"},
			msg:  `Name "Иван  "`,
		},
		{
			name: "padded member ext",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.members = []voip.Member{{ID: "1", Ext: " 101"}}
				return f
			},
			want: []string{"Members"},
			msg:  `Ext " 101"`,
		},
		{
			name: "empty call id",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.callID = ""
				return f
			},
			want: []string{"GenerateCall"},
			msg:  "empty call id",
		},
		{
			name: "relative recording URL",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.link = "/records/call-42.mp3"
				return f
			},
			opts: []Option{WithRecording(recording)},
			want: []string{"CallLink"},
			msg:  "absolute http or https URL",
		},
		{
			name: "ftp recording URL",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.link = "ftp://records.pbx.example/call-42.mp3"
				return f
			},
			opts: []Option{WithRecording(recording)},
			want: []string{"CallLink"},
			msg:  "absolute http or https URL",
		},
		{
			name: "empty recording URL",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.link = ""
				return f
			},
			opts: []Option{WithRecording(recording)},
			want: []string{"CallLink"},
			msg:  `returned ""`,
		},
		{
			name: "recording URL with a token is redacted",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.link = "records/call-42.mp3?token=s3cr3t-t0ken"
				return f
			},
			opts: []Option{WithRecording(recording)},
			want: []string{"CallLink"},
			msg:  "token=[REDACTED]",
		},
		{
			name: "ignores a cancelled context",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.ignoreCtx = true
				return f
			},
			want: []string{"CancelledContext"},
			msg:  "TestConnection with a cancelled context returned no error",
		},
		{
			name: "loses the context error",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.wrongCtxErr = true
				return f
			},
			want: []string{"CancelledContext"},
			msg:  "wrap ctx.Err() with %w",
		},
		{
			name: "hangs on a cancelled context",
			p: func(t *testing.T) voip.Provider {
				f := newGood()
				f.hang = make(chan struct{})
				t.Cleanup(func() { close(f.hang) })
				return f
			},
			opts: []Option{withHangAfter(20 * time.Millisecond)},
			want: []string{"CancelledContext"},
			msg:  "did not return within 20ms",
		},
		{
			name: "bad credentials accepted",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithBadCredentials(newGood())},
			want: []string{"BadCredentials"},
			msg:  "succeeded",
		},
		{
			name: "untyped bad-credential error",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithBadCredentials(badCreds(errors.New("fake: 401 Unauthorized")))},
			want: []string{"BadCredentials"},
			msg:  "want an error matching voip.ErrUnauthorized or voip.ErrForbidden",
		},
		{
			name: "sentinel without an APIError",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithBadCredentials(badCreds(fmt.Errorf("fake: %w", voip.ErrUnauthorized)))},
			want: []string{"BadCredentials"},
			msg:  "want it to wrap a *voip.APIError",
		},
		{
			name: "APIError without a vendor",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithBadCredentials(badCreds(&voip.APIError{StatusCode: 401}))},
			want: []string{"BadCredentials"},
			msg:  "empty Vendor",
		},
		{
			name: "bad credentials classed as a server error",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithBadCredentials(badCreds(&voip.APIError{Vendor: "fake", StatusCode: 500}))},
			want: []string{"BadCredentials"},
			msg:  "want an error matching voip.ErrUnauthorized",
		},
		{
			name: "formatting artefact",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithBadCredentials(badCreds(&voip.APIError{
				Vendor: "fake", StatusCode: 401, Message: "invalid key %!s(MISSING)",
			}))},
			want:     []string{"BadCredentials"},
			msg:      "formatting artefact",
			artefact: true,
		},
		{
			name: "good, with a request count and an unreachable twin",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithUnreachable(newDown())},
		},
		{
			name: "dials garbage",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.sendsGarbage = true
				return f
			},
			want: []string{"InvalidArguments"},
			msg:  `GenerateCall("101", "not a phone") succeeded`,
		},
		{
			name: "untyped argument error",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.untypedArgErr = true
				return f
			},
			want: []string{"InvalidArguments"},
			msg:  "want an error matching voip.ErrInvalidPhone and voip.ErrBadRequest",
		},
		{
			name: "unreachable vendor not typed",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithUnreachable(func() voip.Provider {
				f := newDown()
				f.downErr = &voip.APIError{Vendor: "fake", Err: errors.New("dial tcp: connection refused")}
				return f
			}())},
			want: []string{"Unreachable"},
			msg:  "want an error matching voip.ErrUnreachable",
		},
		{
			name: "refused connection called ambiguous",
			p:    func(*testing.T) voip.Provider { return newGood() },
			opts: []Option{WithUnreachable(func() voip.Provider {
				f := newDown()
				e := *unreachable
				e.Ambiguous = true
				f.downErr = &e
				return f
			}())},
			want: []string{"Unreachable"},
			msg:  "never reached the vendor",
		},
		{
			name: "not safe for concurrent use",
			p: func(*testing.T) voip.Provider {
				f := newGood()
				f.exclusive = true
				return f
			},
			want: []string{"Concurrency"},
			msg:  "session busy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			failed := runChecks(t, tt.p(t), tt.opts...)
			got := slices.Sorted(maps.Keys(failed))
			want := slices.Clone(tt.want)
			slices.Sort(want)
			require.Equal(t, want, got, "checks that failed: %q", failed)
			if tt.msg != "" {
				assert.Contains(t, strings.Join(failed[tt.want[0]], "\n"), tt.msg)
			}
			for name, msgs := range failed {
				for _, m := range msgs {
					if !tt.artefact {
						assert.NotContains(t, m, "%!", "check %s wrote a malformed message", name)
					}
					assert.NotContains(t, m, "s3cr3t", "check %s leaked a token", name)
				}
			}
		})
	}
}

func TestTestProviderPassesAGoodProvider(t *testing.T) {
	t.Parallel()
	f := newGood()
	TestProvider(t, f,
		WithCall("102", "+380501234567"),
		WithRecording(recording),
		WithBadCredentials(badCreds(unauthorized)),
		WithUnreachable(newDown()),
		WithRequests(func() int { return int(f.sent.Load()) }),
	)
}

func TestUnreachableURLRefuses(t *testing.T) {
	t.Parallel()
	u := UnreachableURL(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if resp != nil {
		_ = resp.Body.Close()
	}
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

func TestWithoutGenerateCallNeverCallsIt(t *testing.T) {
	t.Parallel()
	f := newGood()
	assert.Empty(t, runChecks(t, f, WithoutGenerateCall()))
	assert.Zero(t, f.called("GenerateCall"), "WithoutGenerateCall must keep the suite from ever ringing a phone")
	assert.Positive(t, f.called("TestConnection"))
}

// TestInvalidArgumentsCountsRequests: with WithRequests the check fails a
// provider that refuses garbage only after sending it.
func TestInvalidArgumentsCountsRequests(t *testing.T) {
	t.Parallel()
	for _, late := range []bool{false, true} {
		f := newGood()
		f.checksLate = late
		count := func() int { return int(f.sent.Load()) }
		failed := runChecks(t, f, WithRequests(count))
		if !late {
			assert.Empty(t, failed)
			continue
		}
		require.Contains(t, failed, "InvalidArguments")
		assert.Contains(t, strings.Join(failed["InvalidArguments"], "\n"), "sent 8 requests to the vendor")
	}
}

func TestCallLinkCheckNeedsRecording(t *testing.T) {
	t.Parallel()
	f := newGood()
	f.link = "/relative"
	// Without WithRecording the CallLink check is skipped; CallLink is still
	// called with a dead context, where its bad link never comes out.
	assert.Empty(t, runChecks(t, f))
}

func TestCancelledContextCallsEveryMethod(t *testing.T) {
	t.Parallel()
	f := newGood()
	cfg := newConfig(nil)
	var r recorder
	checkCancelledContext(t.Context(), &r, f, &cfg)
	assert.Empty(t, r.errors)
	for _, m := range []string{"TestConnection", "Members", "GenerateCall", "CallLink"} {
		assert.Equal(t, 2, f.called(m), "%s: once cancelled, once past its deadline", m)
	}
}

func TestMembersReportsAreCapped(t *testing.T) {
	t.Parallel()
	f := newGood()
	f.members = make([]voip.Member, 50) // fifty empty IDs, and duplicates of ""
	var r recorder
	cfg := newConfig(nil)
	checkMembers(t.Context(), &r, f, &cfg)
	require.Len(t, r.errors, maxReports+1)
	assert.Contains(t, r.errors[maxReports], "and 40 more problems")
}

func TestConcurrencyOverlaps(t *testing.T) {
	t.Parallel()
	// A provider that counts how many calls are in flight at once proves
	// that the check really overlaps calls.
	var inFlight, peak atomic.Int32
	p := &peakProvider{fake: newGood(), inFlight: &inFlight, peak: &peak}
	cfg := newConfig(nil)
	var r recorder
	checkConcurrency(t.Context(), &r, p, &cfg)
	assert.Empty(t, r.errors)
	assert.Greater(t, peak.Load(), int32(1), "the calls never overlapped")
}

// peakProvider records the peak number of TestConnection calls in flight.
type peakProvider struct {
	*fake
	inFlight, peak *atomic.Int32
}

func (p *peakProvider) TestConnection(ctx context.Context) error {
	n := p.inFlight.Add(1)
	defer p.inFlight.Add(-1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	return p.fake.TestConnection(ctx)
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []Option
		check    func(t *testing.T, c config)
		problems string
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c config) {
				assert.Equal(t, "101", c.ext)
				assert.Equal(t, "+79001234567", c.phone)
				assert.True(t, c.generateCall)
				assert.Nil(t, c.recording)
				assert.Nil(t, c.badCredentials)
			},
		},
		{
			name: "all set",
			opts: []Option{
				WithCall("102", "+380501234567"), WithRecording(recording),
				WithBadCredentials(newGood()), WithoutGenerateCall(), WithoutCallID(), nil,
			},
			check: func(t *testing.T, c config) {
				assert.Equal(t, "102", c.ext)
				assert.Equal(t, "+380501234567", c.phone)
				assert.False(t, c.generateCall)
				assert.True(t, c.emptyCallIDOK)
				require.NotNil(t, c.recording)
				assert.Equal(t, recording, *c.recording)
				assert.NotNil(t, c.badCredentials)
			},
		},
		{name: "empty ext", opts: []Option{WithCall("", "+79001234567")}, problems: "ext and phone must not be empty"},
		{name: "blank phone", opts: []Option{WithCall("101", " ")}, problems: "ext and phone must not be empty"},
		{name: "nil bad provider", opts: []Option{WithBadCredentials(nil)}, problems: "a provider is required"},
		{name: "nil unreachable provider", opts: []Option{WithUnreachable(nil)}, problems: "a provider is required"},
		{name: "nil request count", opts: []Option{WithRequests(nil)}, problems: "a counter is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newConfig(tt.opts)
			if tt.problems != "" {
				require.Len(t, c.problems, 1)
				assert.Contains(t, c.problems[0], tt.problems)
				return
			}
			assert.Empty(t, c.problems)
			tt.check(t, c)
		})
	}
}

func TestCheckNamesAreUnique(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range checks() {
		assert.False(t, seen[c.name], "duplicate check %s", c.name)
		seen[c.name] = true
		assert.NotNil(t, c.run)
		assert.NotNil(t, c.skip)
	}
	assert.Len(t, seen, 9)
}

func TestHangIsWaitedForOncePerMethod(t *testing.T) {
	t.Parallel()
	f := newGood()
	f.hang = make(chan struct{})
	t.Cleanup(func() { close(f.hang) })
	cfg := newConfig([]Option{withHangAfter(20 * time.Millisecond)})
	var r recorder
	checkCancelledContext(t.Context(), &r, f, &cfg)
	require.Len(t, r.errors, 4, "one failure per method: %q", r.errors)
	for _, m := range []string{"TestConnection", "Members", "GenerateCall", "CallLink"} {
		assert.Equal(t, 1, f.called(m), "%s hung once and must not be waited for again", m)
	}
}
