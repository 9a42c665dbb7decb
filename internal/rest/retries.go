package rest

import (
	"fmt"
	"time"
)

// Retries is the retry setting a vendor's WithRetries option takes. The zero
// value leaves the defaults.
type Retries struct {
	max              int
	waitMin, waitMax time.Duration
	set              bool
}

// NewRetries checks a WithRetries option's arguments: max retries after the
// first attempt (0 disables them), with waits growing from minWait to
// maxWait.
func NewRetries(max int, minWait, maxWait time.Duration) (Retries, error) {
	if max < 0 || minWait <= 0 || maxWait < minWait {
		return Retries{}, fmt.Errorf("WithRetries(%d, %v, %v): want max ≥ 0 and 0 < minWait ≤ maxWait", max, minWait, maxWait)
	}
	return Retries{max: max, waitMin: minWait, waitMax: maxWait, set: true}, nil
}

// Apply writes r into cfg.
func (r Retries) Apply(cfg *Config) {
	if !r.set {
		return
	}
	cfg.RetryMax, cfg.RetryWaitMin, cfg.RetryWaitMax = r.max, r.waitMin, r.waitMax
	if r.max == 0 {
		cfg.RetryMax = -1 // Config reads 0 as "the default"
	}
}
