//go:build unix

package backup

import "syscall"

// noFollow: a file found as regular must not be swapped for a link before it is opened.
const noFollow = syscall.O_NOFOLLOW
