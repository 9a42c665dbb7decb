package voip

import (
	"encoding/json"
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
	c.Duration = time.Duration(v.Duration * float64(time.Second))
	c.Talk = time.Duration(v.Talk * float64(time.Second))
	return nil
}
