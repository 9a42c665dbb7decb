//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseFileLimit raises the soft limit on open files to the hard limit,
// and reports the limit it got. It fails when even the hard limit is
// below need: raise that limit first (ulimit -Hn as root, or nofile in
// /etc/security/limits.conf, or LimitNOFILE= for a systemd service).
func raiseFileLimit(need int) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("open file limit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raising the open file limit to %d: %w", lim.Max, err)
		}
	}
	if lim.Cur < uint64(need) {
		return lim.Cur, fmt.Errorf("%d subscriptions need about %d open files, and the hard limit is %d: raise it (ulimit -Hn as root, nofile in /etc/security/limits.conf, or LimitNOFILE=)", need-64, need, lim.Cur)
	}
	return lim.Cur, nil
}
