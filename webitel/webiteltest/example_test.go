package webiteltest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxkit/pbxkit/webitel/webiteltest"
)

// A click-to-call over REST, a failure injected, and what the emulator
// saw.
func ExampleServer() {
	pbx := webiteltest.NewServer("demo-token")
	defer pbx.Close()
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, pbx.BaseURL()+"/api/calls", strings.NewReader(body))
		req.Header.Set("X-Webitel-Access", "demo-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}

	pbx.SetBusy("102", true)
	status, body := post(`{"from":{"extension":"102"},"destination":"+380501234567"}`)
	fmt.Println(status, body)
	pbx.Fail("/api/calls", http.StatusBadGateway, `{"id":"api.process.internal","code":502}`)
	status, _ = post(`{"from":{"extension":"101"},"destination":"+380501234567"}`)
	fmt.Println(status)
	status, _ = post(`{"from":{"extension":"101"},"destination":"+380501234567"}`)
	fmt.Println(status)
	for _, c := range pbx.Calls() {
		fmt.Println("placed:", c.From, "→", c.Destination, c.Socket)
	}
	// Output:
	// 400 {"code":400,"detail":"user 102 is busy","id":"app.call.create.valid.busy","status":"Bad Request"}
	// 502
	// 200
	// placed: 101 → +380501234567 false
}

// The engine socket: hello comes before the authentication's OK, and a
// scripted call rings the user's socket.
func ExampleServer_Incoming() {
	pbx := webiteltest.NewServer("demo-token")
	defer pbx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(pbx.BaseURL(), "http")+"/ws/websocket", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.CloseNow()
	next := func() map[string]any {
		_, b, err := ws.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	_ = ws.Write(ctx, websocket.MessageText,
		[]byte(`{"seq":1,"action":"authentication_challenge","data":{"token":"demo-token"}}`))
	fmt.Println(next()["event"])
	fmt.Println(next()["status"])

	id := pbx.Incoming("101", "+380671112233")
	ev := next()
	call := ev["data"].(map[string]any)["call"].(map[string]any)
	fmt.Println(ev["event"], ev["seq"], call["event"], call["id"] == id)
	pbx.Hangup(id, "ORIGINATOR_CANCEL")
	call = next()["data"].(map[string]any)["call"].(map[string]any)
	data := call["data"].(map[string]any)
	fmt.Println(call["event"], data["cause"], data["sip"], data["talk_sec"])
	// Output:
	// hello
	// OK
	// call 1 ringing true
	// hangup ORIGINATOR_CANCEL 200 0
}
