// Package lenient holds JSON types for the loosely typed payloads PBX vendors
// send. They are meant for the vendors' private wire structs only: the public
// model in package voip uses plain Go types, and vendor packages convert.
//
// Vendors disagree with themselves: the same field arrives as 101 in one
// message and "101" in the next, ids are numbers too big for a float64 and so
// are sent as strings, timestamps come in seconds or in milliseconds, strings
// carry trailing spaces, and "no value" is null, "" or 0. Each type here
// accepts all the forms a field has been seen in and normalises them, and
// rejects everything else with an error that quotes the offending input, so
// that a vendor's format change shows up as a clear decode error rather than
// a silently wrong value.
//
//   - [Int64]: a number or a numeric string; null and "" are 0.
//   - [String]: a string (trimmed), a number (its literal text) or a bool.
//   - [Time]: Unix seconds or milliseconds, as a number or a string, or an
//     RFC 3339 string; 0, null and "" are the zero time.
//
// # Null
//
// encoding/json's convention is that UnmarshalJSON leaves the value unchanged
// on a JSON null. These types instead reset it to the zero value, because a
// vendor's null means "no value" and a reused wire struct must not keep the
// value of the previous message.
//
// # Numbers
//
// Numbers are parsed as exact decimals, never through float64, so that an id
// such as 9007199254740993 (above 2^53) or 1682943253855.0 keeps every digit.
package lenient
