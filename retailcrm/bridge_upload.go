package retailcrm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/voip"
)

// Record queues a finished call for upload when retailCRM has a record for
// it (CallRecordFrom), and reports whether it did. A call queued again
// before it was uploaded replaces the first.
func (b *Bridge) Record(c voip.Call) bool {
	rec, ok := CallRecordFrom(c)
	if !ok {
		return false
	}
	if b.RecordURL != "" {
		rec.RecordURL = ""
		if c.ID != "" && (c.RecordingURL != "" || c.Answered()) {
			q := url.Values{"call": {c.ID}, "at": {strconv.FormatInt(c.StartedAt.Unix(), 10)}}
			rec.RecordURL = b.RecordURL + sep(b.RecordURL) + q.Encode()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.RecordURL != "" && c.ID != "" && c.RecordingURL != "" {
		b.remember(c.ID, c.RecordingURL)
	}
	for i := range b.pending {
		if rec.ExternalID != "" && b.pending[i].rec.ExternalID == rec.ExternalID {
			b.pending[i].rec = rec
			return true
		}
	}
	b.pending = append(b.pending, pendingCall{rec: rec})
	if len(b.pending) >= MaxCallsPerUpload {
		select {
		case b.fullChan() <- struct{}{}:
		default:
		}
	}
	return true
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

// remember keeps a call's recording link, forgetting the oldest beyond
// MaxRememberedLinks. The caller holds b.mu.
func (b *Bridge) remember(id, link string) {
	if b.links == nil {
		b.links = map[string]string{}
	}
	if _, ok := b.links[id]; !ok {
		b.order = append(b.order, id)
	}
	b.links[id] = link
	if len(b.order) > MaxRememberedLinks {
		delete(b.links, b.order[0])
		b.order = b.order[1:]
	}
}

// fullChan returns the batch-ready signal. The caller holds b.mu.
func (b *Bridge) fullChan() chan struct{} {
	if b.full == nil {
		b.full = make(chan struct{}, 1)
	}
	return b.full
}

// Pending returns how many calls wait for upload.
func (b *Bridge) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// Flush uploads the queued calls and returns how many retailCRM stored or
// had already. The calls that failed go back to the queue for the next
// Flush, but for those without an id (not safe to send again) and those
// refused for their data (voip.ErrBadRequest) MaxUploadAttempts times,
// which are logged at Error; while retailCRM is unreachable, failing or
// refusing the key, calls wait without counting attempts. The error says
// how many calls are waiting again or were given up. The queue lives in memory and is not bounded: while retailCRM
// is down it grows, and a process that ends without a last Flush loses it.
func (b *Bridge) Flush(ctx context.Context) (int, error) {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	recs := make([]CallRecord, len(batch))
	for i := range batch {
		recs[i] = batch[i].rec
	}
	res, err := b.CRM.UploadCalls(ctx, recs)
	if err == nil {
		b.log().Info("retailcrm bridge: calls uploaded", "calls", len(recs), "stored", res.Processed, "duplicates", len(res.Duplicates))
		return len(recs), nil
	}
	var failed []int
	if ue := (*UploadError)(nil); errors.As(err, &ue) {
		failed = ue.Failed
	} else { // not the client's contract, but never lose the calls
		for i := range recs {
			failed = append(failed, i)
		}
	}
	maxAttempts := b.MaxUploadAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxUploadAttempts
	}
	// Only a refusal of the data counts as an attempt: while retailCRM is
	// unreachable, failing or refusing the key, the calls wait.
	refused := ctx.Err() == nil && errors.Is(err, voip.ErrBadRequest)
	var again []pendingCall
	lost := 0
	for _, i := range failed {
		if i < 0 || i >= len(batch) {
			continue
		}
		p := batch[i]
		if refused {
			p.attempts++
		}
		if p.rec.ExternalID == "" || p.attempts >= maxAttempts {
			lost++
			b.log().Error("retailcrm bridge: call not uploaded, given up", "call", p.rec.ExternalID,
				"date", p.rec.Date, "phone", p.rec.Phone, "attempts", p.attempts, "err", err)
			continue
		}
		again = append(again, p)
	}
	if len(again) > 0 {
		b.mu.Lock()
		b.pending = append(again, b.pending...)
		b.mu.Unlock()
	}
	stored := len(recs) - len(failed)
	b.log().Warn("retailcrm bridge: upload failed in part", "calls", len(recs), "stored", stored,
		"retry", len(again), "givenUp", lost, "err", err)
	return stored, fmt.Errorf("retailcrm bridge: %d of %d calls not uploaded (%d to retry, %d given up): %w",
		len(failed), len(recs), len(again), lost, err)
}

// FlushEvery uploads the queue every d, and at once when it holds
// MaxCallsPerUpload calls, until ctx ends. It does not flush after that:
// call Flush with a fresh context on the way out.
func (b *Bridge) FlushEvery(ctx context.Context, d time.Duration) {
	b.mu.Lock()
	full := b.fullChan()
	b.mu.Unlock()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-full:
		}
		_, _ = b.Flush(ctx) // logged
	}
}
