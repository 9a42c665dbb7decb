// Package ttlset is a bounded map of keys that expire, each with a small
// value: the in-process memory of webhook handlers (voip.LocalMemory), which
// drop duplicate deliveries and remember a call's facts between its events.
// It is bounded because the keys come from the network: a vendor that never
// ends its calls must not grow it without limit.
package ttlset
