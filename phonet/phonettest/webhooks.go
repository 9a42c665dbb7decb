package phonettest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Encoding is how the webhook sender encodes bodies: Phonet's is not
// settled, so both are offered.
type Encoding int8

const (
	// JSON posts application/json.
	JSON Encoding = iota
	// Form posts application/x-www-form-urlencoded with PHP-style nested
	// keys: leg[id]=36, otherLegs[0][num]=….
	Form
)

// Webhook is one webhook delivery's body, as a JSON-ready map.
type Webhook map[string]any

// EventWebhook is a call event as Phonet posts it to the CRM: the socket's
// shape plus accountDomain, with times in seconds as in the sample of the
// public receiver's tests.
func (s *Server) EventWebhook(event, uuid string, direction int, ext, client string) Webhook {
	s.mu.Lock()
	u, _ := s.userByExt(ext)
	s.mu.Unlock()
	now := time.Now()
	w := Webhook{
		"event": event, "accountDomain": s.Domain, "uuid": uuid, "parentUuid": nil,
		"dialAt": now.Add(-12 * time.Second).Unix(), "bridgeAt": nil, "lgDirection": direction,
		"leg":  map[string]any{"id": u.ID, "ext": u.Ext, "displayName": u.DisplayName},
		"leg2": nil,
		"otherLegs": []any{map[string]any{"id": 1, "name": "Анастасия Березкина", "num": client,
			"companyName": "Тестовая компания", "url": "http://phonet.com.ua/contacts/1"}},
		"trunkNum": DefaultTrunk, "trunkName": "www.phonet.com.ua",
	}
	if event != "call.dial" {
		w["bridgeAt"] = now.Unix()
	}
	if event == "call.hangup" {
		w["serverTime"] = now.UnixMilli()
	}
	return w
}

// LookupWebhook is a client-card lookup: no event, the caller's number and
// the dialled company number.
func LookupWebhook(otherLegNum, trunkNum string) Webhook {
	return Webhook{"otherLegNum": otherLegNum, "trunkNum": trunkNum}
}

// Fire posts w to url in the given encoding with client (nil means
// http.DefaultClient) and returns the reply's status and body.
func Fire(ctx context.Context, client *http.Client, target string, w Webhook, enc Encoding) (int, []byte, error) {
	var (
		body []byte
		ct   string
	)
	switch enc {
	case Form:
		body, ct = []byte(formEncode(w)), "application/x-www-form-urlencoded"
	default:
		var err error
		if body, err = json.Marshal(w); err != nil {
			return 0, nil, err
		}
		ct = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ct)
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// formEncode writes v as PHP's http_build_query does: nested maps and lists
// as bracketed keys, null as an empty value, booleans as 1 and 0.
func formEncode(v Webhook) string {
	vals := url.Values{}
	var walk func(prefix string, x any)
	walk = func(prefix string, x any) {
		switch t := x.(type) {
		case Webhook:
			walk(prefix, map[string]any(t))
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				name := k
				if prefix != "" {
					name = prefix + "[" + k + "]"
				}
				walk(name, t[k])
			}
		case []any:
			for i, e := range t {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		case []map[string]any:
			for i, e := range t {
				walk(prefix+"["+strconv.Itoa(i)+"]", e)
			}
		case nil:
			vals.Add(prefix, "")
		case bool:
			if t {
				vals.Add(prefix, "1")
			} else {
				vals.Add(prefix, "0")
			}
		case string:
			vals.Add(prefix, t)
		default:
			vals.Add(prefix, strings.TrimSpace(fmt.Sprint(t)))
		}
	}
	walk("", v)
	return vals.Encode()
}
