//go:build unix

package evidence

import (
	"io/fs"
	"syscall"
)

// owner returns the user and group owning the file described by st.
func owner(st fs.FileInfo) (uid, gid int, ok bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(s.Uid), int(s.Gid), true
}
