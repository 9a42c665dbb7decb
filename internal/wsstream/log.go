package wsstream

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pbxkit/pbxkit/internal/redact"
)

// redactHandler redacts every message and attribute before the user's
// handler sees them. The engine already passes only redacted values; this is
// the second line of defence, so that a careless attribute added later
// cannot leak the apiKey into somebody's log store.
type redactHandler struct {
	next slog.Handler
	r    *redact.Redactor
}

func newLogger(l *slog.Logger, r *redact.Redactor) *slog.Logger {
	return slog.New(redactHandler{next: l.Handler(), r: r})
}

func (h redactHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return redactHandler{next: h.next.WithAttrs(clean), r: h.r}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{next: h.next.WithGroup(name), r: h.r}
}

// attr redacts one attribute. Strings, errors and anything printed with %v
// become redacted strings; numbers, times and the like pass unchanged.
func (h redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(clean...)}
	case slog.KindAny:
		return slog.String(a.Key, h.r.String(fmt.Sprint(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
