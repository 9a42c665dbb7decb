package lenient

import (
	"bytes"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// v1Options are encoding/json's rules expressed as options of the v2
// implementation: names matched without regard to case, duplicate names
// allowed (the last wins), invalid UTF-8 replaced, UnmarshalJSON methods
// called as encoding/json calls them. Options are immutable values.
var v1Options = jsonv1.DefaultOptionsV1()

// Unmarshal decodes data into v with exactly the rules of encoding/json's
// Unmarshal: the same inputs are accepted and give the same values (the
// differential fuzz targets of the vendor packages hold it to that). It runs
// on the v2 implementation (github.com/go-json-experiment/json, the module
// form of Go 1.27's encoding/json/v2), which validates and decodes in one
// pass instead of validating the whole input first and then scanning it
// again: 2–3× faster on a vendor event, with fewer allocations. Only the
// error values differ: their messages and types are v2's.
func Unmarshal(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, v1Options)
}

// NewDecoder returns a decoder of b that reads it with Unmarshal's rules,
// for a caller that walks a list itself (to keep each element's bytes as
// it decodes them) and decodes the parts with [UnmarshalDecode].
func NewDecoder(b []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewReader(b), v1Options)
}

// UnmarshalDecode decodes the next value of dec into v with Unmarshal's
// rules.
func UnmarshalDecode(dec *jsontext.Decoder, v any) error {
	return jsonv2.UnmarshalDecode(dec, v, v1Options)
}
