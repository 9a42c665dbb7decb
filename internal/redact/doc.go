// Package redact removes secrets from the strings pbxkit shows: error
// messages, log lines, URLs and headers. Every error and log path of the
// shared engines goes through one [Redactor].
//
// Four rules apply:
//
//   - The values registered with [New] (the vendor's key or token) are
//     replaced wherever they appear, in every form text may carry them:
//     as is; URL-escaped (query and path, upper- or lower-case hex); inside
//     a Go %q or JSON string, also escaped twice (a JSON log line quoting a
//     %q error); and base64-encoded at any of the three alignments a value
//     can have inside longer encoded text (the characters that encode the
//     secret alone, six or more of them).
//   - The start of a registered secret (four bytes or more) that stands
//     right before a "…" is hidden too: it is what an excerpt cut before
//     redaction leaves. Code that shortens text redacts first and cuts
//     after, with [Redactor.Excerpt]; this rule is the second line.
//   - Query parameters and headers whose name says they are secret (apiKey,
//     token, crm_token, Authorization, Cookie, X-API-KEY,
//     X-Webitel-Access…) are masked whatever their value.
//   - In free text, "Bearer x" and name=value or "name":"value" pairs with
//     such names are masked, which catches secrets a vendor echoes back.
//
// [Redactor.Error] wraps an error so that nothing reachable from it leaks:
// not its message, nor any error of its chain through Unwrap or errors.As.
package redact
