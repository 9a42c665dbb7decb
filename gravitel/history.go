package gravitel

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/internal/rest"
)

// Period is a named history period. It overrides Start and End.
type Period string

// The periods the PBX knows.
const (
	PeriodToday     Period = "today"
	PeriodYesterday Period = "yesterday"
	PeriodThisWeek  Period = "this_week"
	PeriodLastWeek  Period = "last_week"
	PeriodThisMonth Period = "this_month"
	PeriodLastMonth Period = "last_month"
)

// CallType is the type of a history record, and the history filter.
type CallType string

// The call types. CallMissed appears in the history command only; the
// history webhook sends in or out with a status.
const (
	CallAll    CallType = "all" // a filter only
	CallIn     CallType = "in"
	CallOut    CallType = "out"
	CallMissed CallType = "missed"
)

// HistoryQuery selects calls: either a Period, or Start and End.
type HistoryQuery struct {
	Period     Period
	Start, End time.Time // sent in UTC as 20060102T150405Z
	Type       CallType  // empty means CallAll
	Limit      int       // 0 means the PBX's default
}

// timeLayout is the protocol's compact UTC time.
const timeLayout = "20060102T150405Z"

// Record is one line of the call history.
type Record struct {
	UID  string
	Type CallType // in, out or missed, lower case
	// Client is the client's number as the PBX wrote it ("+79002445949").
	Client string
	// Account is who took the call: "login@tenant", a group, "ivr" or "fax".
	Account string
	// Via is our number on an inbound call, the caller ID on an outbound one.
	Via      string
	Start    time.Time // UTC
	Wait     time.Duration
	Duration time.Duration // talk time
	// RecordURL is the recording link; empty when there is none.
	RecordURL string
	// Extra holds columns after the ninth, which newer PBXs may add.
	Extra []string
}

// History returns the calls q selects, oldest or newest first as the PBX
// sends them.
func (c *Client) History(ctx context.Context, q HistoryQuery) ([]Record, error) {
	cmd := command{name: cmdHistory, idempotency: rest.Idempotent}
	switch {
	case q.Period != "":
		cmd = cmd.with("period", string(q.Period))
	case !q.Start.IsZero():
		cmd = cmd.with("start", q.Start.UTC().Format(timeLayout))
		if !q.End.IsZero() {
			cmd = cmd.with("end", q.End.UTC().Format(timeLayout))
		}
	default:
		return nil, errors.New("gravitel: History: set Period, or Start and End")
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("gravitel: History: negative limit %d", q.Limit)
	}
	typ := q.Type
	if typ == "" {
		typ = CallAll
	}
	cmd = cmd.with("type", string(typ))
	if q.Limit > 0 {
		cmd = cmd.with("limit", strconv.Itoa(q.Limit))
	}
	resp, err := c.do(ctx, cmd)
	if err != nil {
		return nil, err
	}
	records, err := ParseHistory(bytes.NewReader(resp.Body))
	if err != nil {
		return nil, resp.BadResponse(err)
	}
	return records, nil
}

// historyColumns is how many columns a line must have: the record link may
// be missing altogether on a line without one.
const historyColumns = 8

// HistoryError is a history line that cannot be read.
type HistoryError struct {
	Line  int    // 1-based
	Field string // the column, or "" for a CSV syntax error
	Err   error
}

func (e *HistoryError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("gravitel: history line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("gravitel: history line %d: %s: %v", e.Line, e.Field, e.Err)
}

func (e *HistoryError) Unwrap() error { return e.Err }

// ParseHistory reads the history command's answer: headerless CSV lines of
// UID,type,client,account,via,start,wait,duration,record, ended by LF or
// CRLF, with start in RFC 3339 (Gravitel) or 20060102T150405Z (the spec).
// Blank lines are skipped and extra columns kept.
func ParseHistory(r io.Reader) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	var out []Record
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
				err = pe.Err
			}
			return nil, &HistoryError{Line: line, Err: err}
		}
		rec, herr := parseRecord(fields)
		if herr != nil {
			herr.Line = line
			return nil, herr
		}
		out = append(out, rec)
	}
}

func parseRecord(f []string) (Record, *HistoryError) {
	if len(f) < historyColumns {
		return Record{}, &HistoryError{Err: fmt.Errorf("%d columns, want at least %d", len(f), historyColumns)}
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	rec := Record{
		UID: f[0], Type: CallType(strings.ToLower(f[1])), Client: f[2], Account: f[3], Via: f[4],
	}
	var err error
	if rec.Start, err = parseTime(f[5]); err != nil {
		return Record{}, &HistoryError{Field: "start", Err: err}
	}
	if rec.Wait, err = parseSeconds(f[6]); err != nil {
		return Record{}, &HistoryError{Field: "wait", Err: err}
	}
	if rec.Duration, err = parseSeconds(f[7]); err != nil {
		return Record{}, &HistoryError{Field: "duration", Err: err}
	}
	if len(f) > historyColumns {
		rec.RecordURL = f[8]
	}
	if len(f) > historyColumns+1 {
		rec.Extra = append([]string(nil), f[historyColumns+1:]...)
	}
	return rec, nil
}

// parseTime reads the protocol's times: RFC 3339 with an offset, as
// Gravitel's history sends, or the spec's compact UTC form. Both are
// returned in UTC.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %s is neither RFC 3339 nor %s", excerpt([]byte(s)), timeLayout)
	}
	return t, nil
}

// maxSeconds caps a duration: a week is more than any call, and the cap keeps
// the conversion far from overflow.
const maxSeconds = 7 * 24 * 3600

// parseSeconds reads a whole number of seconds; empty is zero.
func parseSeconds(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxSeconds {
		return 0, fmt.Errorf("seconds %s are not a whole number from 0 to %d", excerpt([]byte(s)), maxSeconds)
	}
	return time.Duration(n) * time.Second, nil
}
