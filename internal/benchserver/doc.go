// Package benchserver serves the fixed answers of the request benchmarks,
// either in the benchmark's own process or in a child process.
//
// On a machine with few cores an in-process server's CPU is charged to the
// benchmark and hides the client's: a client that costs 20 % more CPU may
// take only a few percent more wall time. In a child process the server
// runs on its own, and [CPU] reports the client's CPU alone (user and
// system time of this process, per operation).
//
// The child is the test binary itself: a package that uses [Start] with
// [Process] calls [Main] first thing in its TestMain, which serves and
// exits when the process was started as a server.
package benchserver
