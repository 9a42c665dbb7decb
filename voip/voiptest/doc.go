// Package voiptest checks that a [voip.Provider] keeps the contract, in the
// spirit of testing/fstest.TestFS: one call runs every check as a subtest.
//
//	func TestProviderContract(t *testing.T) {
//		srv := newFakePBX(t) // an httptest server speaking the vendor's API
//		c, err := gravitel.New(srv.URL, "good-token")
//		require.NoError(t, err)
//		bad, err := gravitel.New(srv.URL, "wrong-token")
//		require.NoError(t, err)
//		down, err := gravitel.New(voiptest.UnreachableURL(t), "good-token",
//			gravitel.WithRetries(0, time.Millisecond, time.Millisecond))
//		require.NoError(t, err)
//		voiptest.TestProvider(t, c,
//			voiptest.WithBadCredentials(bad),
//			voiptest.WithUnreachable(down),
//			voiptest.WithRequests(func() int { return srv.Hits() }),
//			voiptest.WithRecording(voip.Call{ID: "1682943253.42"}),
//		)
//	}
//
// # Checks
//
// Each check is a subtest named after it:
//
//   - TestConnection: succeeds.
//   - Members: matches voip.ErrNotSupported, or lists members whose IDs are
//     non-empty and unique, and whose ID, Name, Ext and Email carry no
//     surrounding whitespace.
//   - GenerateCall: returns a non-empty call id, or voip.ErrNotSupported.
//   - CallLink (with [WithRecording]): returns an absolute http(s) URL, or
//     voip.ErrNotSupported.
//   - InvalidArguments: GenerateCall with a phone that is not a number
//     ("not a phone", "+7 abc", "", too many digits) fails with a
//     *voip.ArgError matching voip.ErrInvalidPhone and voip.ErrBadRequest,
//     and with an empty ext one matching voip.ErrBadRequest. With
//     [WithRequests], none of them may reach the vendor.
//   - CancelledContext: every method, given an already-cancelled context,
//     returns an error matching context.Canceled, and given an expired
//     deadline one matching context.DeadlineExceeded, within a few seconds.
//     voip.ErrNotSupported is accepted instead.
//   - BadCredentials (with [WithBadCredentials]): TestConnection fails with
//     an error matching voip.ErrUnauthorized or voip.ErrForbidden that wraps
//     a *voip.APIError naming its Vendor, and whose text is clean.
//   - Unreachable (with [WithUnreachable]): the provider pointed at a dead
//     address fails TestConnection and GenerateCall with errors matching
//     voip.ErrUnreachable, and GenerateCall not voip.ErrAmbiguous.
//   - Concurrency: TestConnection and Members called from several goroutines
//     at once all succeed. Run the tests with -race: the race detector is
//     what catches unsynchronised state in a provider.
//
// # Against a real PBX
//
// The suite is written for fakes (httptest servers), but runs against a real
// account too. Then beware: GenerateCall rings a real phone, twice over (the
// GenerateCall check, and CancelledContext should the provider ignore its
// context), so pass [WithoutGenerateCall], or [WithCall] with your own
// extension and number. The Concurrency check makes eight requests, four at
// a time, which a vendor with a tight rate limit may refuse.
//
// Failure messages quote URLs and errors after redacting anything that
// looks like a key or token, since test logs end up in CI.
package voiptest
