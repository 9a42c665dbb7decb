package lenient

import (
	"encoding/json"
	"fmt"
)

// String is a string that a vendor may send as a JSON string, number or bool.
//
// A string is trimmed of surrounding whitespace (vendors pad names and
// numbers with spaces). A number keeps its literal text verbatim, so an
// extension sent as 101 reads "101" and 1.5 reads "1.5": no float64 round
// trip alters the digits. A bool reads "true" or "false", and null reads "".
// An object or an array is an error.
type String string

// UnmarshalJSON implements [encoding/json.Unmarshaler].
func (s *String) UnmarshalJSON(b []byte) error {
	k, text, err := classify(b)
	if err != nil {
		return err
	}
	if k == kindComposite {
		return fmt.Errorf("lenient: cannot read %s as a string", excerpt(b))
	}
	*s = String(text) // "" for null
	return nil
}

// MarshalJSON implements [encoding/json.Marshaler]. It always writes a JSON
// string, whatever form the value arrived in.
func (s String) MarshalJSON() ([]byte, error) {
	return json.Marshal(string(s))
}
