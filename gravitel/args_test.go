package gravitel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
	"github.com/pbxkit/pbxkit/voip"
)

// TestArgumentsRefusedBeforeSending: every method refuses a bad argument
// with a *voip.ArgError naming the method and the argument, and sends
// nothing.
func TestArgumentsRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		fn, arg string
		call    func(ctx context.Context) error
		alsoIs  error
	}{
		{"History", "query", func(ctx context.Context) error {
			_, err := c.History(ctx, gravitel.HistoryQuery{Type: gravitel.CallIn, Limit: 5})
			return err
		}, nil},
		{"History", "End", func(ctx context.Context) error {
			_, err := c.History(ctx, gravitel.HistoryQuery{Start: start, End: start.Add(-time.Second)})
			return err
		}, nil},
		{"History", "Limit", func(ctx context.Context) error {
			_, err := c.History(ctx, gravitel.HistoryQuery{Period: gravitel.PeriodToday, Limit: -1})
			return err
		}, nil},
		{"SubscribeOnCalls", "user", func(ctx context.Context) error { return c.SubscribeOnCalls(ctx, " ", true, "sales") }, nil},
		{"SubscriptionStatus", "user", func(ctx context.Context) error {
			_, err := c.SubscriptionStatus(ctx, "", "sales")
			return err
		}, nil},
		{"SubscriptionStatus", "groupID", func(ctx context.Context) error {
			_, err := c.SubscriptionStatus(ctx, "ivan", "")
			return err
		}, nil},
		{"SetDND", "user", func(ctx context.Context) error { return c.SetDND(ctx, "", true) }, nil},
		{"GetDND", "user", func(ctx context.Context) error {
			_, err := c.GetDND(ctx, "\t")
			return err
		}, nil},
		{"MakeCall", "user", func(ctx context.Context) error {
			_, err := c.MakeCall(ctx, gravitel.MakeCallRequest{Phone: "79161234567"})
			return err
		}, nil},
		{"MakeCall", "phone", func(ctx context.Context) error {
			_, err := c.MakeCall(ctx, gravitel.MakeCallRequest{User: "admin", Phone: "ACME"})
			return err
		}, voip.ErrInvalidPhone},
		{"MakeCall", "clid", func(ctx context.Context) error {
			_, err := c.MakeCall(ctx, gravitel.MakeCallRequest{User: "admin", Phone: "79161234567", CLID: "ACME"})
			return err
		}, voip.ErrInvalidPhone},
		{"GenerateCall", "ext", func(ctx context.Context) error {
			_, err := c.GenerateCall(ctx, "", "79161234567")
			return err
		}, nil},
		{"CallLink", "call", func(ctx context.Context) error {
			_, err := c.CallLink(ctx, voip.Call{ID: "no-start"})
			return err
		}, voip.ErrNotFound},
	}
	for _, tc := range cases {
		err := tc.call(t.Context())
		var argErr *voip.ArgError
		require.ErrorAs(t, err, &argErr, tc.fn+" "+tc.arg)
		assert.Equal(t, voip.ArgError{Vendor: gravitel.Vendor, Func: tc.fn, Arg: tc.arg, Err: argErr.Err}, *argErr)
		assert.ErrorIs(t, err, voip.ErrBadRequest, tc.fn+" "+tc.arg)
		if tc.alsoIs != nil {
			assert.ErrorIs(t, err, tc.alsoIs, tc.fn+" "+tc.arg)
		}
	}
	assert.Empty(t, srv.Requests(), "a refused argument is never sent")
}
