package mailbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
)

// Mark is where a folder stood at an instant: every message that lands in the folder
// instance UIDValidity names after At (moved or appended in, too) gets a UID of at least
// UIDNext, because a server never hands out a UID below UIDNEXT again. The daemon takes
// marks with MarkFolders just before each inquiry goes out; a Watcher's first sync that
// finds one at or before WatchOptions.Since reads the UIDs from UIDNext on instead of
// searching the whole folder (see WatchOptions.Mark).
type Mark struct {
	Folder      string
	UIDValidity uint32
	UIDNext     uint32
	// At is our clock once the server's answer was in, so no message that arrived after
	// At can be below UIDNext.
	At time.Time
}

// MarkFolders logs in to the IMAP server s and asks STATUS (UIDVALIDITY UIDNEXT) of each
// folder on one connection, then logs out. The folders are entries as in
// WatchOptions.Folders: an attribute such as \Junk is resolved on that connection, the
// Mark names the folder it found, and an attribute that names no folder is skipped. It returns a Mark for each folder that
// answered, At read from now (time.Now if nil) after its answer. A folder that fails
// (one that does not exist, say) is left out and its error joined into err; a failed
// connection gives no marks and the error. ctx and s.Timeout bound every step: give ctx
// a short deadline when a caller must not wait long.
func MarkFolders(ctx context.Context, s Server, folders []string, now func() time.Time) ([]Mark, error) {
	if now == nil {
		now = time.Now
	}
	c, err := DialIMAP(ctx, s)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	resolved, err := ResolveFoldersOn(ctx, c, s.timeout(), folders)
	if err != nil {
		return nil, fmt.Errorf("imap %s: %w", s.Addr(), err)
	}
	var (
		marks []Mark
		errs  []error
	)
	for _, f := range resolved {
		folder := f.Name
		if folder == "" {
			continue
		}
		var data *imap.StatusData
		stop := Watchdog(ctx, s.timeout(), c)
		err := stop(func() (err error) {
			data, err = c.Status(folder, &imap.StatusOptions{UIDValidity: true, UIDNext: true}).Wait()
			return err
		}())
		at := now()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("imap %s: STATUS %s (UIDVALIDITY UIDNEXT): %w", s.Addr(), folder, err))
			select {
			case <-c.Closed():
				return marks, errors.Join(errs...) // the connection is gone: no use asking on
			default:
			}
		case data.UIDValidity == 0 || data.UIDNext == 0:
			errs = append(errs, fmt.Errorf("imap %s: STATUS %s gave no UIDVALIDITY or UIDNEXT", s.Addr(), folder))
		default:
			marks = append(marks, Mark{Folder: folder, UIDValidity: data.UIDValidity, UIDNext: uint32(data.UIDNext), At: at})
		}
	}
	stop := Watchdog(ctx, s.timeout(), c)
	stop(c.Logout().Wait()) // the marks are taken: a failed goodbye changes nothing
	return marks, errors.Join(errs...)
}
