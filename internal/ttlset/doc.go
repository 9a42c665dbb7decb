// Package ttlset is a bounded set of keys that expire: what webhook handlers
// need to drop duplicate deliveries and to remember a call's direction
// between its events. It is bounded because the keys come from the network:
// a vendor that never ends its calls must not grow it without limit.
package ttlset
