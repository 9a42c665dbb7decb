package gravitel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxkit/pbxkit/gravitel"
)

// TestParseHistoryHeader: a header line is skipped, not read as a call
// whose start is the word "start", and the columns are then read by name.
func TestParseHistoryHeader(t *testing.T) {
	t.Parallel()
	csv := "uid,type,client,account,via,start,wait,duration,record\n" +
		"a1,in,+79101234567,ivan@test.gravitel.ru,+74950000000,2017-07-03T15:11:10+03:00,5,124,https://link/a1.mp3\n"
	records, err := gravitel.ParseHistory(strings.NewReader(csv))
	require.NoError(t, err)
	require.Len(t, records, 1)
	assert.Equal(t, gravitel.Record{
		UID: "a1", Type: gravitel.CallIn, Client: "+79101234567", Account: "ivan@test.gravitel.ru", Via: "+74950000000",
		Start: time.Date(2017, 7, 3, 12, 11, 10, 0, time.UTC), Wait: 5 * time.Second, Duration: 124 * time.Second,
		RecordURL: "https://link/a1.mp3",
	}, records[0])
}

// TestParseHistoryColumnsByName: with a header, columns may come in any
// order and under the newer API's names, a byte order mark and capitals
// included; other columns are kept under their names.
func TestParseHistoryColumnsByName(t *testing.T) {
	t.Parallel()
	csv := "\ufeffStart, ID ,type,status,client,account,via,duration,wait\r\n" +
		"2017-07-03 12:11:10,b1,OUT,Busy,+79101234567,admin,+74996861574,0,7,surplus\r\n" +
		"2017-07-03 12:20:00,b2,in,Success,+79101234568\r\n"
	records, err := gravitel.ParseHistory(strings.NewReader(csv))
	require.NoError(t, err)
	require.Len(t, records, 2)
	assert.Equal(t, gravitel.Record{
		UID: "b1", Type: gravitel.CallOut, Client: "+79101234567", Account: "admin", Via: "+74996861574",
		Start: time.Date(2017, 7, 3, 12, 11, 10, 0, time.UTC), Wait: 7 * time.Second,
		Extra: map[string]string{"status": "Busy", "10": "surplus"},
	}, records[0])
	assert.Equal(t, gravitel.Record{
		UID: "b2", Type: gravitel.CallIn, Client: "+79101234568", Start: time.Date(2017, 7, 3, 12, 20, 0, 0, time.UTC),
		Extra: map[string]string{"status": "Success"},
	}, records[1], "a short line reads its missing columns as empty")
}

// TestParseHistoryFirstLineIsNotAlwaysAHeader: a first line that names one
// column by chance is data, and its bad start is an error, not skipped.
func TestParseHistoryFirstLineIsNotAlwaysAHeader(t *testing.T) {
	t.Parallel()
	_, err := gravitel.ParseHistory(strings.NewReader("x,in,+79101234567,start,+74950000000,yesterday,1,2,\n"))
	var herr *gravitel.HistoryError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, 1, herr.Line)
	assert.Equal(t, "start", herr.Field)

	_, err = gravitel.ParseHistory(strings.NewReader("a1,in,+7,x,+7,20170703T121110Z,1,2,\nuid,type,client,account,via,start,wait,duration,record\n"))
	require.ErrorAs(t, err, &herr, "only the first line may be a header")
	assert.Equal(t, 2, herr.Line)
}

// TestTimeForms: the times the protocol's PBXs write, in history lines and
// webhooks alike.
func TestTimeForms(t *testing.T) {
	t.Parallel()
	want := time.Date(2017, 7, 3, 12, 11, 10, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2017-07-03T15:11:10+03:00":        want,
		"20170703T121110Z":                 want,
		"2017-07-03 12:11:10":              want,
		"2017-07-03T12:11:10":              want,
		"2017-07-03 12:11:10Z":             want,
		"2017-07-03 15:11:10+03:00":        want,
		"2017-07-03 15:11:10 +03:00":       want,
		"2017-07-03 15:11:10 +0300":        want,
		"2017-07-03 15:11:10+0300":         want,
		"2017-07-03 15:11:10+03":           want,
		"2017-07-03 09:11:10 -0300":        want,
		"2017-07-03 12:11:10.250":          want.Add(250 * time.Millisecond),
		"2017-07-03 15:11:10.5 +0300":      want.Add(500 * time.Millisecond),
		"2017-07-03T15:11:10.123+03:00":    want.Add(123 * time.Millisecond),
		"2017-07-03 12:11:10,750":          want.Add(750 * time.Millisecond),
		"2017-07-03 15:11:10.000001+03:00": want.Add(time.Microsecond),
	} {
		// Quoted: a decimal comma is a CSV separator otherwise.
		records, err := gravitel.ParseHistory(strings.NewReader(`a1,in,+7,x,+7,"` + in + `",0,0,` + "\n"))
		require.NoError(t, err, in)
		assert.Equal(t, want, records[0].Start, in)
		assert.Equal(t, time.UTC, records[0].Start.Location(), in)

		body := "cmd=history&type=in&callid=1&start=" + strings.ReplaceAll(strings.ReplaceAll(in, "+", "%2B"), " ", "+") + "&crm_token=" + crmKey
		w, err := gravitel.ParseWebhook(webhookRequest([]byte(body), "application/x-www-form-urlencoded"), crmKey)
		require.NoError(t, err, in)
		assert.Equal(t, want, w.Start, in)
	}
	for _, in := range []string{
		"2017-07-03 25:11:10", "2017-07-03 12:11", "2017-07-03", "03.07.2017 12:11:10", "2017-07-03 12:11:10 MSK",
		"2017-07-03  12:11:10", "2017-07-03 12:11:10  +0300", "start",
	} {
		_, err := gravitel.ParseHistory(strings.NewReader("a1,in,+7,x,+7," + in + ",0,0,\n"))
		var herr *gravitel.HistoryError
		require.ErrorAs(t, err, &herr, in)
		assert.Equal(t, "start", herr.Field, in)
	}
}

// TestHistoryWithHeader runs the history command against a PBX that starts
// its answer with a header line.
func TestHistoryWithHeader(t *testing.T) {
	t.Parallel()
	srv, c := newEmulator(t)
	srv.HistoryHeader(true)
	got, err := c.History(t.Context(), gravitel.HistoryQuery{Period: gravitel.PeriodToday})
	require.NoError(t, err)
	require.Len(t, got, 2, "the header is not a call")
	assert.Equal(t, "a252179d-fa9b-4b2a-9f4a-05c61af0639f", got[0].UID)
	assert.Equal(t, time.Date(2017, 7, 7, 13, 14, 8, 0, time.UTC), got[0].Start)
	assert.Equal(t, 11*time.Second, got[0].Duration)
}
