package wsstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/voip"
)

// fuzzSecret is the apiKey of fuzzURL: it must never reach a log line.
const (
	fuzzSecret = "K3yS3cr3tXyz"
	fuzzURL    = "wss://pbx.example.com/live/connector/v3/easy?domain=pbx.example.com&apiKey=" + fuzzSecret + "&subscriber=101"
)

// frameSep separates the frames of one fuzz input.
const frameSep = "\x1e"

// records is a slog.Handler that keeps every record from level min.
type records struct {
	min  slog.Level
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }
func (h *records) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *records) WithGroup(string) slog.Handler                { return h }

// reset forgets the records and keeps those from level min on.
func (h *records) reset(min slog.Level) {
	h.mu.Lock()
	h.min, h.recs = min, nil
	h.mu.Unlock()
}

func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

// attrs returns a record's attributes as strings.
func attrs(r slog.Record) map[string]string {
	out := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		out[a.Key] = a.Value.String()
		return true
	})
	return out
}

// fuzzDecode is a vendor decoder that trusts the first byte of a frame:
// 'p' panics (with a string, an error, nil or a runtime error), 'e' is
// refused with an error, 'h' emits the frame and then panics; any other
// frame, the empty one included, is one event: the frame itself.
func fuzzDecode(typ websocket.MessageType, data []byte, emit func(string)) error {
	if len(data) == 0 {
		emit("")
		return nil
	}
	switch data[0] {
	case 'p':
		switch len(data) % 4 {
		case 0:
			panic(string(data))
		case 1:
			panic(errors.New(string(data)))
		case 2:
			panic(nil)
		default:
			i := len(data)
			_ = data[i] // index out of range
		}
	case 'e':
		return errors.New(string(data[1:]))
	case 'h':
		emit(string(data))
		panic(fmt.Sprintf("half decoded %s frame", typ))
	}
	emit(string(data))
	return nil
}

// expectFrame is what fuzzDecode makes of a frame: the events it emits and
// whether it panics or refuses the frame.
func expectFrame(frame []byte) (events []string, panics, refusals int) {
	switch {
	case len(frame) == 0:
		return []string{""}, 0, 0
	case frame[0] == 'p':
		return nil, 1, 0
	case frame[0] == 'e':
		return nil, 0, 1
	case frame[0] == 'h':
		return []string{string(frame)}, 1, 0
	}
	return []string{string(frame)}, 0, 0
}

// FuzzDecodeDispatch feeds frames to the reader's dispatch with a Decode
// that fails and panics on some. No panic escapes; every refused or
// panicking frame counts once in Malformed and is logged, valid UTF-8 and
// without the URL's apiKey; every other frame is delivered once, in order,
// under the policy's rules (Block: all of them; DropOldest: the newest that
// fit the buffer, the rest counted in Dropped with one NoticeDropped).
func FuzzDecodeDispatch(f *testing.F) {
	phonet := []string{
		`{"event":"call.dial","uuid":"23-1453990999.41","parentUuid":null,"lgDirection":4,"leg":{"id":120,"type":1,"displayName":"Support Phonet","ext":"911"},"leg2":null,"otherLegs":[{"id":"29","name":"Тест","num":"+380567777777"}],"dialAt":1473973200000,"bridgeAt":null,"serverTime":"1473973201000","trunkNum":"567850550"}`,
		`{"event":"call.bridge","uuid":"23-1453990999.41","bridgeAt":1473973205000}`,
		`{"event":"error","message":"Subscriber not found"}`,
		`{"event":"success"}`,
	}
	webitel := []string{
		`{"status":"OK","seq_reply":1}`,
		"\x00\x00\x00\x00",
		`{"event":"hello","data":{"server_version":"23.12"},"seq":0}`,
		`{"status":"FAIL","seq_reply":1,"error":{"id":"auth","status":"Unauthorized","detail":"token","code":401}}`,
	}
	f.Add([]byte(strings.Join(phonet, frameSep)), false, uint8(0), true, true)
	f.Add([]byte(strings.Join(webitel, frameSep)), false, uint8(1), false, false)
	f.Add([]byte(strings.Join(append(phonet, webitel...), frameSep)), false, uint8(3), false, true)
	f.Add([]byte("p"+frameSep+"pa"+frameSep+"pan"+frameSep+"pani"+frameSep+`{"n":1}`), false, uint8(0), false, true)
	f.Add([]byte("e"+frameSep+"ebad apiKey="+fuzzSecret+frameSep+"h1"+frameSep+"x"), true, uint8(1), true, true)
	f.Add([]byte("pp "+fuzzSecret+" \xff\xfe"+frameSep+"p"+strings.Repeat("é", 200)), true, uint8(0), false, true)
	f.Add([]byte(""), false, uint8(0), false, false)
	f.Add([]byte(frameSep+frameSep), true, uint8(0), false, false)
	f.Add([]byte("e"), false, uint8(0), true, false)
	logs := &records{}
	cfg, err := Config[string]{Vendor: "phonet", URL: fuzzURL, Logger: slog.New(logs), Decode: fuzzDecode}.normalize()
	require.NoError(f, err)
	base := newStream(context.Background(), cfg)
	f.Cleanup(base.cancel)
	f.Fuzz(func(t *testing.T, input []byte, binary bool, buffer uint8, block, debug bool) {
		frames := bytes.Split(input, []byte(frameSep))
		if len(frames) > 64 {
			return // each panic redacts a stack trace at Debug: keep an input cheap
		}
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		var (
			want             []string
			panics, refusals int
			typeMismatch     bool
		)
		for _, fr := range frames {
			ev, p, r := expectFrame(fr)
			want = append(want, ev...)
			panics += p
			refusals += r
		}

		policy, size := DropOldest, int(buffer%8)+1
		if block {
			policy, size = Block, max(len(want), 1)
		}
		// A stream per input, sharing the redactor and logger of base,
		// which cost more to build than the rest of an iteration.
		level := slog.LevelInfo
		if debug {
			level = slog.LevelDebug
		}
		logs.reset(level)
		s := &Stream[string]{cfg: base.cfg, red: base.red, log: base.log, url: base.url, ctx: base.ctx, cancel: base.cancel,
			events: make(chan string, size), notices: make(chan voip.Notice, noticeBuffer)}
		s.emit = s.push
		s.cfg.Buffer, s.cfg.Policy = size, policy
		s.cfg.Decode = func(got websocket.MessageType, data []byte, emit func(string)) error {
			if got != typ {
				typeMismatch = true
			}
			return fuzzDecode(got, data, emit)
		}

		for _, fr := range frames {
			s.decode(typ, fr)
		}

		require.False(t, typeMismatch, "Decode got another message type")
		require.Equal(t, uint64(panics+refusals), s.Malformed())
		var got []string
		for len(s.events) > 0 {
			got = append(got, <-s.events)
		}
		kept := want[max(0, len(want)-size):]
		if policy == Block {
			kept = want
		}
		require.Equal(t, len(kept), len(got), "delivered")
		for i := range kept {
			require.Equal(t, kept[i], got[i], "event %d", i)
		}
		dropped := len(want) - len(kept)
		require.Equal(t, uint64(dropped), s.Dropped())
		if dropped > 0 {
			require.Len(t, s.notices, 1, "one notice per overflow episode")
			n := <-s.notices
			require.Equal(t, voip.NoticeDropped, n.Kind)
			require.True(t, n.Gap)
		} else {
			require.Empty(t, s.notices)
		}

		var sawPanics, sawRefusals, debugLines int
		for _, r := range logs.recs {
			a := attrs(r)
			require.NotContains(t, r.Message, fuzzSecret)
			for k, v := range a {
				require.NotContains(t, v, fuzzSecret, "%s: %s=%q", r.Message, k, v)
			}
			if v, ok := a["data"]; ok {
				require.True(t, utf8.ValidString(v), "logged data is not UTF-8: %q", v)
			}
			switch r.Message {
			case "wsstream: Decode panic", "wsstream: malformed message":
				debugLines++
				require.Equal(t, slog.LevelDebug, r.Level)
				require.Contains(t, a, "data")
				continue
			case "wsstream: Decode panicked, message skipped":
				sawPanics++
				require.NotEmpty(t, a["panic"])
			case "wsstream: malformed message skipped":
				sawRefusals++
			default:
				continue
			}
			require.Equal(t, slog.LevelWarn, r.Level)
			require.Equal(t, fmt.Sprint(sawPanics+sawRefusals), a["malformed"], "the running count")
		}
		require.Equal(t, panics, sawPanics)
		require.Equal(t, refusals, sawRefusals)
		if debug {
			require.Equal(t, panics+refusals, debugLines, "one Debug line with the data per bad frame")
		} else {
			require.Zero(t, debugLines)
		}
	})
}
