package voip

import (
	"encoding/json"
	"math"
	"time"
)

// callJSON is Call on the wire: durations in seconds, which is how every
// vendor and every CRM counts them, instead of Go's nanoseconds.
type callJSON struct {
	callFields
	Duration float64 `json:"duration"`
	Talk     float64 `json:"talk"`
}

// callFields has Call's fields and none of its methods, so that marshalling
// it does not recurse.
type callFields Call

// MarshalJSON writes Duration and Talk as seconds.
func (c Call) MarshalJSON() ([]byte, error) {
	return json.Marshal(callJSON{callFields: callFields(c), Duration: c.Duration.Seconds(), Talk: c.Talk.Seconds()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Call) UnmarshalJSON(b []byte) error {
	var v callJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Call(v.callFields)
	c.Duration, c.Talk = seconds(v.Duration), seconds(v.Talk)
	return nil
}

// seconds converts a JSON number of seconds to the nearest Duration. It
// rounds, because the float64 that MarshalJSON writes may sit just below the
// duration (1.001 s is 1000999999.9999999 ns), and it stops at Duration's
// bounds, where a conversion would wrap around to the other sign.
func seconds(s float64) time.Duration {
	switch ns := math.Round(s * float64(time.Second)); {
	case ns >= math.MaxInt64: // float64(MaxInt64) is 2⁶³, already past it
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	default:
		return time.Duration(ns)
	}
}
