package graviteltest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/gravitel/graviteltest"
)

// The emulator answers the protocol's commands at BaseURL, the address a
// client is given.
func Example() {
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()

	form := url.Values{"cmd": {"makeCall"}, "user": {"admin"}, "phone": {"79161234567"}, "token": {"pbx-key"}}
	resp, err := pbx.Client().PostForm(pbx.BaseURL(), form)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status, len(pbx.Calls()), pbx.Calls()[0].User, pbx.Requests()[0].Cmd)
	// Output:
	// 200 OK 1 admin makeCall
}

// PlayInbound posts a whole inbound call to the CRM URL; here the CRM
// prints what it receives.
func ExampleServer_PlayInbound() {
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		fmt.Println(strings.TrimSpace(strings.Join([]string{f.Get("cmd"), f.Get("type"), f.Get("status"), f.Get("duration")}, " ")))
		_, _ = io.WriteString(w, "{}")
	}))
	defer crm.Close()
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()

	hooks := graviteltest.Webhooks{URL: crm.URL, CRMToken: "crm-key"}
	call := graviteltest.InboundCall{Client: "+79161234567", Ext: "ivan", Ring: 5 * time.Second, Talk: time.Minute}
	if _, err := pbx.PlayInbound(context.Background(), hooks, call); err != nil {
		fmt.Println(err)
	}
	// Nobody answers this one.
	call.Talk = 0
	if _, err := pbx.PlayInbound(context.Background(), hooks, call); err != nil {
		fmt.Println(err)
	}
	// Output:
	// contact
	// event INCOMING
	// event ACCEPTED
	// event COMPLETED
	// history in Success 65
	// contact
	// event INCOMING
	// event CANCELLED
	// history in missed 5
}

// Fail makes the next request for a command fail as the PBX's front end
// might.
func ExampleServer_Fail() {
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	pbx.Fail("accounts", http.StatusBadGateway, "502 Bad Gateway")

	for range 2 {
		resp, err := pbx.Client().PostForm(pbx.BaseURL(), url.Values{"cmd": {"accounts"}, "token": {"pbx-key"}})
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// 502 Bad Gateway
	// 200 OK
}

// HistoryHeader starts the history with a header line, as some PBXs of the
// protocol do.
func ExampleServer_HistoryHeader() {
	pbx := graviteltest.NewServer("pbx-key")
	defer pbx.Close()
	pbx.HistoryHeader(true)

	form := url.Values{"cmd": {"history"}, "period": {"today"}, "limit": {"1"}, "token": {"pbx-key"}}
	resp, err := pbx.Client().PostForm(pbx.BaseURL(), form)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(strings.ReplaceAll(string(body), ",", " "))
	// Output:
	// uid type client account via start wait duration record
	// a252179d-fa9b-4b2a-9f4a-05c61af0639f out +79002445949 admin@test.gravitel.ru +74996861574 2017-07-07T16:14:08+03:00 0 11
}
