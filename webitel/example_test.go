package webitel_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pbxkit/pbxkit/voip"
	"github.com/pbxkit/pbxkit/webitel"
)

// exampleTenant is a tiny stand-in for a Webitel tenant, enough for the
// examples; the tests use richer ones.
func exampleTenant() *httptest.Server {
	routes := map[string]string{
		"POST /api/login":                        `{"access_token":"session-token-123","token_type":"bearer"}`,
		"GET /api/userinfo":                      `{"dc":"1","domain":"demo","user_id":"1","username":"ivan","extension":"101"}`,
		"GET /api/users":                         `{"page":1,"size":100,"items":[{"id":"1","name":"Іван Петренко","extension":"101"},{"id":"2","name":"Олена Коваль","extension":"102"}]}`,
		"POST /api/devices":                      `{"id":"7287","name":"device for user 1","account":"sipUser1","created_at":"1682943253855"}`,
		"POST /api/users":                        `{"id":"131","name":"User1","username":"2020","extension":"2020"}`,
		"POST /api/users/131/tokens":             `{"id":"t1","token":"user-token-abc","usage":"crm"}`,
		"POST /api/calls":                        `{"id":"3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d"}`,
		"GET /api/calls/history":                 `{"next":false,"items":[{"id":"c1","direction":"inbound","from":{"type":"dest","number":"0671234567"},"extension":"101","created_at":"1714550000000","answered_at":"1714550005000","cause":"NORMAL_CLEARING","duration":100,"talk_sec":95,"files":[{"id":"555","mime_type":"audio/mp3","type":"file_type_audio"}]}]}`,
		"PATCH /api/call_center/agents/9/status": `{"status":"OK"}`,
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/storage/recordings/555/download" {
			_, _ = io.WriteString(w, "RIFF....WAVE")
			return
		}
		body, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			body = `{"id":"api.process.not_found","code":404,"detail":"not found"}`
		}
		_, _ = io.WriteString(w, body)
	}))
}

// The client as a voip.Provider: the same CRM code drives every vendor.
func Example() {
	pbx := exampleTenant()
	defer pbx.Close()
	ctx := context.Background()
	// On a real tenant: webitel.New("https://cloud.webitel.com/api/", token).
	client, err := webitel.New(pbx.URL, "integration-token")
	if err != nil {
		log.Fatal(err)
	}
	var p voip.Provider = client
	if err := p.TestConnection(ctx); err != nil {
		log.Fatal(err)
	}
	members, err := p.Members(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(members), "members, first:", members[0].Ext, members[0].Name)
	id, err := p.GenerateCall(ctx, "101", "067 123 45 67")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("operator leg:", id)
	// Output:
	// 2 members, first: 101 Іван Петренко
	// operator leg: 3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d
}

func ExampleLogin() {
	pbx := exampleTenant()
	defer pbx.Close()
	token, err := webitel.Login(context.Background(), pbx.URL, "demo", "ivan", "password")
	if errors.Is(err, webitel.ErrTwoFactor) {
		log.Fatal("use an integration token for this account")
	}
	if err != nil {
		log.Fatal(err)
	}
	client, err := webitel.New(pbx.URL, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.TestConnection(context.Background()))
	// Output: <nil>
}

// The seed article's flow: a WebRTC device, a licensed user with it, and
// the user's own token, the three things a SPA stores per user.
func ExampleClient_Provision() {
	pbx := exampleTenant()
	defer pbx.Close()
	client, err := webitel.New(pbx.URL, "integration-token")
	if err != nil {
		log.Fatal(err)
	}
	p, err := client.Provision(context.Background(), webitel.Provisioning{
		Device: webitel.Device{Name: "device for user 1", Account: "sipUser1", Password: "BNZdVLryFwcB"},
		User: webitel.User{Name: "User1", Username: "2020", Password: "dl75lfLcOLLL", Extension: "2020",
			Roles: []webitel.Lookup{{ID: "4"}}, License: []webitel.Lookup{{ID: "95309f22-0d7c-4fb9-baab-9911898019c4"}}},
		TokenUsage: "crm",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.UserID, p.DeviceID, p.Token)
	// Output: 131 7287 user-token-abc
}

// Click-to-call: Webitel rings extension 101 first, then the client.
func ExampleClient_CreateCall() {
	pbx := exampleTenant()
	defer pbx.Close()
	client, err := webitel.New(pbx.URL, "integration-token")
	if err != nil {
		log.Fatal(err)
	}
	id, err := client.CreateCall(context.Background(), webitel.CallRequest{
		FromExtension: "101", Destination: "+380671234567", Variables: map[string]string{"crm_lead": "42"},
	})
	if errors.Is(err, voip.ErrAmbiguous) {
		log.Fatal("the call may be ringing: do not repeat it")
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id)
	// Output: 3f6b1c1e-2f0a-4a7e-9d0e-6c1b1a2b3c4d
}

func ExampleClient_History() {
	pbx := exampleTenant()
	defer pbx.Close()
	client, err := webitel.New(pbx.URL, "integration-token")
	if err != nil {
		log.Fatal(err)
	}
	q := webitel.HistoryQuery{From: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), SkipParent: true}
	for h, err := range client.History(context.Background(), q) {
		if err != nil {
			log.Fatal(err)
		}
		c := h.Call()
		fmt.Println(c.Direction, c.Client, c.Ext, c.Disposition, c.Talk, len(h.Files))
	}
	// Output: in +380671234567 101 answered 1m35s 1
}

func ExampleClient_DownloadRecording() {
	pbx := exampleTenant()
	defer pbx.Close()
	client, err := webitel.New(pbx.URL, "integration-token")
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := client.DownloadRecording(context.Background(), "555", &buf)
	if err != nil {
		log.Fatal(err)
	}
	// The link a CRM stores carries no token.
	link := client.RecordingURL("555")
	fmt.Println(n, strings.TrimPrefix(link, pbx.URL))
	// Output: 12 /api/storage/recordings/555/download
}

func ExampleClient_SetAgentStatus() {
	pbx := exampleTenant()
	defer pbx.Close()
	client, err := webitel.New(pbx.URL, "integration-token")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.SetAgentStatus(context.Background(), "9", "pause", "lunch"))
	err = client.SetAgentStatus(context.Background(), "9", "away", "")
	var arg *voip.ArgError
	fmt.Println(errors.As(err, &arg), arg.Arg)
	// Output:
	// <nil>
	// true status
}
