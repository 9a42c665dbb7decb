// Package testutil holds helpers shared by pbxkit's tests: a log sink that
// tests can read while the code under test writes to it, and the canary
// check that proves a secret never reaches an error or a log line.
package testutil
