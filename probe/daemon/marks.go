package daemon

import (
	"context"
	"log/slog"
	"time"

	"supportprobe/mailbox"
	"supportprobe/store"
)

// markTimeout bounds the folder marks taken before a send: past it the mail goes out
// without them.
const markTimeout = 5 * time.Second

// markFolders records where each watched folder stands (its UIDVALIDITY and UIDNEXT)
// just before mail goes out, so that a first sync of the folder that looks for replies
// since then can start at that UID instead of searching the whole folder (see
// mailbox.WatchOptions.Mark). It never fails or holds up a send beyond markTimeout: an
// error is logged, and such a first sync falls back to searching by date. It also drops
// the marks no first sync can need any more.
func (d *Daemon) markFolders(ctx context.Context, log *slog.Logger) {
	if d.config().Mail.IMAP.Host == "" {
		return
	}
	srv, err := d.mailServer("imap", d.config().Mail.IMAP.Server)
	if err != nil {
		log.Warn("cannot mark the watched folders before sending; a first sync of them will search by date", "err", err)
		return
	}
	mctx, cancel := context.WithTimeout(ctx, markTimeout)
	defer cancel()
	marks, err := mailbox.MarkFolders(mctx, srv, d.config().Mail.IMAP.Folders, d.opts.Now)
	switch {
	case err != nil && len(marks) == 0:
		log.Warn("cannot mark the watched folders before sending; a first sync of them will search by date", "err", err)
	case err != nil:
		log.Info("some watched folders not marked before sending", "err", err)
	}
	for _, m := range marks {
		if err := d.db.AddFolderMark(m.Folder, store.FolderMark{At: m.At, UIDValidity: m.UIDValidity, UIDNext: m.UIDNext}); err != nil {
			log.Warn("folder mark not stored; a first sync of the folder will search by date", "folder", m.Folder, "err", err)
		}
	}
	// A first sync looks back at most to the oldest probe within the longest deadline.
	if _, err := d.db.PruneFolderMarks(d.opts.Now().Add(-d.maxDeadline())); err != nil {
		log.Warn("old folder marks not pruned", "err", err)
	}
}
