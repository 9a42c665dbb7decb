package newtel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
)

// The WebPhone widget's assets, from the seed article.
const (
	WidgetCSS = "https://public.new-tel.net/webrtc/widget.css"
	WidgetJS  = "https://public.new-tel.net/webrtc/widget.js"
)

// WidgetSnippet renders the widget configuration from WidgetConfig into the
// HTML of the seed article: the default stylesheet, the global
// window.newtelWebrtcWidgetConfig, and the widget's script. The JSON is
// compacted and its <, > and & are escaped as \u003c and so on, so that a
// value cannot close the script element. The article warns: never serve the
// widget to the public, anyone could call through the account.
func WidgetSnippet(config json.RawMessage) (template.HTML, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, config); err != nil {
		return "", fmt.Errorf("newtel: widget config is not JSON: %w", err)
	}
	if c := bytes.TrimSpace(b.Bytes()); len(c) == 0 || c[0] != '{' {
		return "", fmt.Errorf("newtel: widget config is not a JSON object")
	}
	var safe bytes.Buffer
	json.HTMLEscape(&safe, b.Bytes())
	// #nosec: every part is a constant or escaped JSON.
	return template.HTML(`<link href="` + WidgetCSS + `" rel="stylesheet">` + "\n" +
		`<script>window.newtelWebrtcWidgetConfig = ` + safe.String() + `;</script>` + "\n" +
		`<script async src="` + WidgetJS + `"></script>` + "\n"), nil
}
