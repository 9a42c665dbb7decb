// Package redact removes secrets from the strings pbxkit shows: error
// messages, log lines, URLs and headers. Every error and log path of the
// shared engines goes through one [Redactor].
//
// Three rules apply: the values registered with [New] (the vendor's key or
// token, also in their URL-escaped forms) are replaced wherever they appear;
// query parameters and headers whose name says they are secret (apiKey,
// token, crm_token, Authorization, Cookie, X-API-KEY, X-Webitel-Access…) are
// masked whatever their value; and in free text, "Bearer x" and name=value
// or "name":"value" pairs with such names are masked too, which catches
// secrets a vendor echoes back in an error message.
package redact
