// Package hook holds what every vendor's webhook handler shares beyond
// voip.Webhook: the defaults of the Memory and DedupeWindow fields of their
// configs, and the keys deliveries are remembered under.
package hook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// Memory is a handler's memory with its dedupe window, defaults applied.
type Memory struct {
	voip.Memory
	// Window is how long a delivery is remembered; zero or less turns
	// deduplication off.
	Window time.Duration
}

// NewMemory applies the documented defaults of a WebhookConfig: a nil m is
// a LocalMemory of the handler's own (voip.DefaultMemoryKeys), a zero
// window is voip.DefaultDedupeWindow, and a negative one turns
// deduplication off.
func NewMemory(m voip.Memory, window time.Duration) Memory {
	if m == nil {
		m = voip.NewLocalMemory(0)
	}
	if window == 0 {
		window = voip.DefaultDedupeWindow
	}
	return Memory{Memory: m, Window: window}
}

// Once runs deliver unless key was delivered within the window; see
// voip.DeliverOnce.
func (m Memory) Once(ctx context.Context, key string, deliver func() error) (bool, error) {
	return voip.DeliverOnce(ctx, m.Memory, key, m.Window, deliver)
}

// Key is the memory key of a delivery: vendor, what is remembered, and a
// digest of parts, which identify the delivery (a redelivery repeats them
// byte for byte). The digest keeps keys short and within the alphabet of
// any store.
func Key(vendor, kind string, parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = h.Write(p)
		_, _ = h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	return vendor + "/" + kind + "/" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}
