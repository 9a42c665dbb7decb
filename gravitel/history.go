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
	// Extra holds the columns not read into the fields above, which newer
	// PBXs may add: under their names when the answer has a header line,
	// else under their 1-based positions ("10", "11"). Nil when there are
	// none.
	Extra map[string]string
}

// History returns the calls q selects, oldest or newest first as the PBX
// sends them.
//
// A query without a Period or a Start, with an End before its Start, or
// with a negative Limit is a *voip.ArgError (matching voip.ErrBadRequest),
// and nothing is sent.
func (c *Client) History(ctx context.Context, q HistoryQuery) ([]Record, error) {
	cmd := command{name: cmdHistory, idempotency: rest.Idempotent}
	switch {
	case q.Period != "":
		cmd = cmd.with("period", string(q.Period))
	case !q.Start.IsZero():
		cmd = cmd.with("start", q.Start.UTC().Format(timeLayout))
		if !q.End.IsZero() {
			if q.End.Before(q.Start) {
				return nil, argError("History", "End", fmt.Errorf("%s is before Start %s", q.End.UTC().Format(time.RFC3339), q.Start.UTC().Format(time.RFC3339)))
			}
			cmd = cmd.with("end", q.End.UTC().Format(timeLayout))
		}
	default:
		return nil, argError("History", "query", errors.New("set Period, or Start and End"))
	}
	if q.Limit < 0 {
		return nil, argError("History", "Limit", fmt.Errorf("negative: %d", q.Limit))
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
	// A line per record, the header aside: the result is sized once.
	records, err := parseHistory(bytes.NewReader(resp.Body), bytes.Count(resp.Body, []byte{'\n'})+1)
	if err != nil {
		return nil, resp.BadResponse(err)
	}
	return records, nil
}

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

// ParseHistory reads the history command's answer: CSV lines of
// uid,type,client,account,via,start,wait,duration,record, ended by LF or
// CRLF. Blank lines are skipped.
//
// Gravitel sends no header line, and the columns are read by position; the
// record link may be missing altogether, and columns after it are kept in
// Extra. Some PBXs of the protocol start with a header line naming the
// columns (uid or id, type, client, …): it is skipped, the columns are then
// read by their names in any order, and those of other names are kept in
// Extra under their names.
//
// start may be RFC 3339 (Gravitel, with its local offset), the spec's
// 20060102T150405Z, or 2006-01-02 15:04:05 with an optional zone
// ("+03:00", " +0300", "Z"); without a zone it is UTC. Fractional seconds
// are allowed. Every Start is returned in UTC.
func ParseHistory(r io.Reader) ([]Record, error) {
	return parseHistory(r, 0)
}

// parseHistory is ParseHistory with room for lines records made at once.
func parseHistory(r io.Reader, lines int) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	cols := positionalColumns
	first := true
	out := make([]Record, 0, lines)
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			if len(out) == 0 {
				return nil, nil // as before the result was sized: no records, no slice
			}
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
		if first {
			first = false
			fields[0] = strings.TrimPrefix(fields[0], "\ufeff") // a byte order mark
			if h, ok := headerColumns(fields); ok {
				cols = h
				continue
			}
		}
		rec, herr := cols.record(fields)
		if herr != nil {
			herr.Line = line
			return nil, herr
		}
		out = append(out, rec)
	}
}

// The columns of a history line, in the order Gravitel sends them.
const (
	colUID = iota
	colType
	colClient
	colAccount
	colVia
	colStart
	colWait
	colDuration
	colRecord
	knownColumns
)

// columnNames are the header names of the columns; "id" is the uid's name
// in the newer JSON history of the same records.
var columnNames = map[string]int{
	"uid": colUID, "id": colUID, "type": colType, "client": colClient, "account": colAccount, "via": colVia,
	"start": colStart, "wait": colWait, "duration": colDuration, "record": colRecord,
}

// columns says where each column of a history line is.
type columns struct {
	at [knownColumns]int // the field of each known column; -1 when absent
	// extra names the fields of other columns in the header.
	extra []extraColumn
	// width is how many fields the layout names; fields after them are
	// extras named by their 1-based position.
	width int
	// min is how many fields a line needs.
	min int
}

type extraColumn struct {
	field int
	name  string
}

// positionalColumns reads a headerless line: the nine columns in order, the
// record link optional, and the columns after it named by position.
var positionalColumns = func() columns {
	var c columns
	for i := range c.at {
		c.at[i] = i
	}
	c.width, c.min = knownColumns, colRecord
	return c
}()

// headerColumns reads fields as a header line when they name the start
// column and at least one other known column: a record's start is a time,
// never the word "start".
func headerColumns(fields []string) (columns, bool) {
	var c columns
	for i := range c.at {
		c.at[i] = -1
	}
	known := 0
	for i, f := range fields {
		name := strings.ToLower(strings.TrimSpace(f))
		col, ok := columnNames[name]
		switch {
		case ok && c.at[col] < 0:
			c.at[col] = i
			known++
		default:
			c.extra = append(c.extra, extraColumn{field: i, name: strings.TrimSpace(f)})
		}
	}
	if c.at[colStart] < 0 || known < 2 {
		return columns{}, false
	}
	c.width = len(fields)
	return c, true
}

// record reads one line. Fields missing at the end of a line read as empty.
func (c columns) record(f []string) (Record, *HistoryError) {
	if len(f) < c.min {
		return Record{}, &HistoryError{Err: fmt.Errorf("%d columns, want at least %d", len(f), c.min)}
	}
	field := func(col int) string {
		if i := c.at[col]; i >= 0 && i < len(f) {
			return strings.TrimSpace(f[i])
		}
		return ""
	}
	rec := Record{
		UID: field(colUID), Type: CallType(strings.ToLower(field(colType))), Client: field(colClient),
		Account: field(colAccount), Via: field(colVia), RecordURL: field(colRecord),
	}
	var err error
	if rec.Start, err = parseTime(field(colStart)); err != nil {
		return Record{}, &HistoryError{Field: "start", Err: err}
	}
	if rec.Wait, err = parseSeconds(field(colWait)); err != nil {
		return Record{}, &HistoryError{Field: "wait", Err: err}
	}
	if rec.Duration, err = parseSeconds(field(colDuration)); err != nil {
		return Record{}, &HistoryError{Field: "duration", Err: err}
	}
	rec.Extra = c.extras(f)
	return rec, nil
}

// extras returns the fields of no known column, or nil when there are none.
func (c columns) extras(f []string) map[string]string {
	var out map[string]string
	add := func(name, v string) {
		if out == nil {
			out = make(map[string]string)
		}
		if _, dup := out[name]; !dup {
			out[name] = strings.TrimSpace(v)
		}
	}
	for _, x := range c.extra {
		if x.field < len(f) {
			add(x.name, f[x.field])
		}
	}
	for i := c.width; i < len(f); i++ {
		add(strconv.Itoa(i+1), f[i])
	}
	return out
}

// The time layouts of the protocol's PBXs, beyond RFC 3339.
const (
	// timeLayoutSpaced is a SQL-style time, with a zone or without one.
	timeLayoutSpaced = "2006-01-02 15:04:05"
	// timeLayoutLocal is RFC 3339 without a zone, as the newer JSON API
	// writes its times.
	timeLayoutLocal = "2006-01-02T15:04:05"
)

// parseTime reads the protocol's times: RFC 3339 with an offset (Gravitel's
// history), the spec's compact 20060102T150405Z, or 2006-01-02 15:04:05
// (also with a T) followed by an optional zone: "Z", "+03:00", "+0300" or
// "+03", with or without a space before it. A time without a zone is UTC.
// Fractional seconds are allowed. Every time is returned in UTC.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(timeLayout, s); err == nil {
		return t, nil
	}
	if len(s) >= len(timeLayoutSpaced) && (s[10] == ' ' || s[10] == 'T') {
		// One layout for both separators, and the zone joined to the
		// seconds whether or not a space came before it.
		norm := s[:10] + "T" + s[11:19] + joinZone(s[19:])
		for _, layout := range [...]string{time.RFC3339, timeLayoutLocal + "-0700", timeLayoutLocal + "-07", timeLayoutLocal} {
			if t, err := time.Parse(layout, norm); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("time %s is not RFC 3339, %s or %s with an optional zone", excerpt(s), timeLayout, timeLayoutSpaced)
}

// joinZone drops the one space that may separate a zone from the seconds
// and their fraction: ".5 +0300" is ".5+0300".
func joinZone(rest string) string {
	i := 0
	if i < len(rest) && (rest[i] == '.' || rest[i] == ',') {
		i++
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
	}
	if i < len(rest)-1 && rest[i] == ' ' {
		return rest[:i] + rest[i+1:]
	}
	return rest
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
		return 0, fmt.Errorf("seconds %s are not a whole number from 0 to %d", excerpt(s), maxSeconds)
	}
	return time.Duration(n) * time.Second, nil
}
