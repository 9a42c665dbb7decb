package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// readEvents reads a text/event-stream, as a browser's EventSource does,
// and hands each event to fn until the stream ends, ctx ends or fn
// returns false. lastID, when not "", is sent as Last-Event-ID. It
// returns the id of the last event read.
func readEvents(ctx context.Context, client *http.Client, url, lastID string, fn func(message) bool) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return lastID, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := client.Do(req)
	if err != nil {
		return lastID, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return lastID, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var (
		m  message
		sc = bufio.NewScanner(resp.Body)
	)
	for sc.Scan() {
		line := sc.Text()
		if line == "" { // the end of an event
			if m.Event != "" || m.Data != nil {
				if m.Event == "" {
					m.Event = "message"
				}
				if !fn(m) {
					return lastID, nil
				}
			}
			m = message{}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			lastID = value
			m.ID, _ = strconv.ParseUint(value, 10, 64)
		case "event":
			m.Event = value
		case "data":
			if m.Data != nil {
				m.Data = append(m.Data, '\n')
			}
			m.Data = append(m.Data, value...)
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return lastID, err
	}
	return lastID, nil
}
