package retailcrm

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pbxkit/pbxkit/internal/lenient"
)

// object is a JSON object that retailCRM, being PHP, may send as [] when
// it is empty (the edit fixture of api-client-php answers "info": []).
// [], null and {} read as the zero T, and Set reports whether a non-empty
// object came.
type object[T any] struct {
	V   T
	Set bool
}

func (o *object[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var zero T
	o.V, o.Set = zero, false
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '[':
		if string(bytes.Join(bytes.Fields(b), nil)) != "[]" {
			return fmt.Errorf("retailcrm: a list where an object is due: %.40s", b)
		}
		return nil
	}
	if err := lenient.Unmarshal(b, &o.V); err != nil {
		return err
	}
	o.Set = string(bytes.Join(bytes.Fields(b), nil)) != "{}"
	return nil
}

// flag is a bool that may come as true/false, 1/0 or their strings; null
// and "" are false.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "y", "yes":
		*f = true
	case "false", "0", "", "null", "n", "no":
		*f = false
	default:
		return fmt.Errorf("retailcrm: cannot read %.40s as a bool", b)
	}
	return nil
}

// int64s is a list of ids, each a number or a numeric string.
type int64s []lenient.Int64

func (l int64s) plain() []int64 {
	if len(l) == 0 {
		return nil
	}
	out := make([]int64, len(l))
	for i, v := range l {
		out[i] = int64(v)
	}
	return out
}

// strs is a list of strings, each of which may come as a number.
type strs []lenient.String

func (l strs) plain() []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}

// seconds is a duration in whole seconds, rounded, never negative.
func seconds(d int64) int64 {
	if d <= 0 {
		return 0
	}
	return (d + 5e8) / 1e9
}
