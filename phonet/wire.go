package phonet

import "github.com/pbxkit/pbxkit/internal/lenient"

// The wire types: Phonet sends ids as numbers or strings, timestamps in
// seconds or milliseconds as numbers or strings, and pads text with spaces.
// The lenient package holds those rules, with a fast path for the plain
// shapes nearly every field has.
type (
	text    = lenient.String
	integer = lenient.Int64
	instant = lenient.Time
)
