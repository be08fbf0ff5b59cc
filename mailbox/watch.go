package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The defaults of WatchOptions.
const (
	DefaultWatchMaxSize      = 1 << 20
	DefaultWatchPollInterval = 30 * time.Second
	// DefaultWatchSweepInterval is a safety net, not a poll: while IDLE runs, the server
	// pushes new mail in the first folder, and the sweep ends the IDLE to read every
	// folder and idle again. 25 minutes stays under the 29 minutes after which RFC 9051
	// (section 6.3.13) has a client re-issue IDLE to avoid being logged out as inactive,
	// and keeps an idle daemon from waking every few minutes.
	DefaultWatchSweepInterval = 25 * time.Minute
	DefaultWatchBackoff       = time.Second
	DefaultWatchMaxBackoff    = 4 * time.Second
	// DefaultWatchAuthMaxBackoff caps the waits after refused logins, which retrying
	// soon will not cure and which servers punish (lockouts, fail2ban).
	DefaultWatchAuthMaxBackoff = 5 * time.Minute
)

// DefaultWatchFolders are the folder entries a Watcher reads when WatchOptions.Folders is
// empty: replies land in the inbox, or in the spam folder when a filter misjudges them,
// which is the folder the server marks \Junk, whatever its name (see SpecialUseEntry).
var DefaultWatchFolders = []string{"INBOX", string(imap.MailboxAttrJunk)}

// bodyBatch bounds how many message bodies, and how many bytes of them, one UID FETCH
// brings back: enough to save round trips, few enough that a backlog after a long
// downtime never sits in memory whole.
const (
	bodyBatchMessages = 16
	bodyBatchBytes    = 8 << 20
)

// recheckDelay is how long into an IDLE the Watcher syncs once more after every sync
// that was not itself such a recheck. Some servers (go-imap's imapmemserver) push nothing
// for mail that arrives between their answer to the last command and the moment their
// IDLE starts listening, until something else changes; the recheck finds that mail a
// second late instead of at the next sweep. It costs one more cheap sync per wake-up.
const recheckDelay = time.Second

// Position is how far a folder has been read: every message with a UID up to LastUID has
// been handed to the Handler, or was left out on purpose by the first sync (older than
// WatchOptions.Since), in the folder instance that UIDValidity names. A Position with
// another UIDValidity than the folder's says nothing: the server has renumbered it.
type Position struct {
	UIDValidity uint32
	LastUID     uint32
}

// Positions persists how far each folder was read (the daemon adapts its store to it).
// A Watcher calls it from Run's goroutine only; an error from either method ends the
// connection, and Run reconnects after a backoff.
type Positions interface {
	// Position returns the folder's stored position; ok is false if there is none.
	Position(folder string) (p Position, ok bool, err error)
	// SetPosition stores the folder's position, durably, before returning nil.
	SetPosition(folder string, p Position) error
}

// DiscoveredFolders remembers, across runs, which folder each special-use entry of
// WatchOptions.Folders named. When the Positions given to NewWatcher also implements
// it, a Watcher recognises the folder renamed while it was away (the entry names a new
// folder, the old name is gone, and the new folder has the old one's UIDVALIDITY and a
// UIDNEXT past its position) and continues from the old folder's position instead of
// reading the folder afresh, so that mail without a Message-ID is not handed over
// twice. Without it, a renamed folder is read like a new one. Called from Run's
// goroutine only; an error ends the connection, like a Positions error.
type DiscoveredFolders interface {
	// DiscoveredFolder returns the folder entry named last; ok is false if none.
	DiscoveredFolder(entry string) (folder string, ok bool, err error)
	// SetDiscoveredFolder stores the folder entry names now.
	SetDiscoveredFolder(entry, folder string) error
}

// Fetched is a new message as a Watcher hands it to the Handler.
type Fetched struct {
	// Folder, UIDValidity and UID identify the message on the server.
	Folder      string
	UIDValidity uint32
	UID         uint32
	// InternalDate is the server's arrival time (its clock, whole seconds).
	InternalDate time.Time
	// Raw is the message as the server stores it, cut after WatchOptions.MaxSize bytes.
	Raw []byte
	// Size is the whole message's size (RFC822.SIZE); Truncated says Raw is shorter.
	Size      int64
	Truncated bool
	// DetectedAt is our clock (WatchOptions.Now) when the Watcher learnt the message's
	// UID, just before fetching its body.
	DetectedAt time.Time
}

// Handler is called for every new message, in UID order per folder, from Run's goroutine
// (never from go-imap's read loop, so it may take its time, but no IDLE runs meanwhile).
// A nil error advances the folder's position past the message; an error stops that
// folder's batch without advancing, and the message is offered again at the next sync.
// The Handler may see a message twice (after a crash between its return and the position
// being saved, or after an interrupted first sync): it must deduplicate, for example by
// Message-ID.
type Handler func(ctx context.Context, m Fetched) error

// WatchOptions tune a Watcher. The zero value is the production setting.
type WatchOptions struct {
	// Folders are the folder entries read in turn; the first one is the one IDLE
	// watches. Each is a folder's name, or a special-use attribute such as \Junk: the
	// folder the server marks with it (RFC 6154), found by LIST at every connection,
	// else one with the attribute's usual name ("Junk", "Spam"), logged once (see
	// SpecialUseEntry and WatchedFolder). Default INBOX and \Junk. A folder that does
	// not exist is logged once, and looked for again at every sync; so is an
	// attribute that names no folder, or whose folder vanished (renamed, say).
	Folders []string
	// Since is asked, on a folder's first sync (no stored position, or another
	// UIDVALIDITY), for the oldest arrival that matters (the oldest open probe): only
	// messages whose INTERNALDATE is at or after it (to the whole second, INTERNALDATE's
	// resolution) are handed over. It is compared with the server's clock, so leave a
	// margin for skew. Nil, or a zero time, means now: a first sync then hands over
	// nothing and only marks where new mail will start.
	Since func() time.Time
	// Mark, if set, is asked on a folder's first sync with a non-zero Since for the
	// latest Mark of the folder taken at or before since (the time Since returned); ok
	// is false when there is none. A mark of the folder's current UIDVALIDITY lets the
	// first sync read only the UIDs from its UIDNext on; without one (none, another
	// UIDVALIDITY, a mark after since or beyond the folder's UIDNEXT, or an error, which
	// is logged) the first sync searches the folder by date. It is called from Run's
	// goroutine only.
	Mark func(folder string, since time.Time) (m Mark, ok bool, err error)
	// MaxSize bounds the bytes fetched per message (BODY.PEEK[]<0.MaxSize>). Default 1 MiB.
	MaxSize int
	// PollInterval is how often every folder is read when the server lacks IDLE.
	// Default 30 s.
	PollInterval time.Duration
	// SweepInterval is how often every folder is read even while IDLE runs: the safety
	// net for a push the server never sent, the re-issue of a long IDLE, and, if nothing
	// else wakes the watcher first, when new mail in folders other than the first is
	// seen. Default 25 min (DefaultWatchSweepInterval). Without IDLE, PollInterval
	// applies instead.
	SweepInterval time.Duration
	// Backoff is the first wait before reconnecting; each failure doubles it up to
	// MaxBackoff, and a successful sync resets it. Defaults 1 s and 4 s: while the
	// server is down a retry costs one refused connection, and the cap bounds how long
	// after the server's return the watcher reconnects (within MaxBackoff plus a login).
	// Refused logins double up to AuthMaxBackoff instead (default 5 min), never less
	// than MaxBackoff.
	Backoff, MaxBackoff, AuthMaxBackoff time.Duration
	// Now is our clock, for Fetched.DetectedAt, WatchState and the default Since.
	// Default time.Now.
	Now func() time.Time
	// Logger receives the watcher's logs, with the keys folder, uid and err. Nil
	// discards them.
	Logger *slog.Logger
	// OnDisconnect, if set, is called from Run's goroutine each time a connection
	// ends, after State shows it disconnected; it must return quickly. It lets a
	// caller that judges State over time (the daemon's watcher_down alert) look when
	// something changed instead of polling.
	OnDisconnect func()
	// OnConnectSynced, if set, is called from Run's goroutine after the first complete
	// sync of each connection, once State shows it; it must return quickly. With
	// OnDisconnect it tells a caller that judges State over time (the daemon's
	// watcher_down and watcher_up alerts) every change it needs, so it need not poll.
	OnConnectSynced func()
}

// WatchState is a snapshot of a Watcher's health, for metrics and health checks.
type WatchState struct {
	// Connected is true while Run is logged in to the server.
	Connected bool
	// Idling is true while an IDLE runs, that is while the server pushes new mail.
	Idling bool
	// LastSync is when the last sync ended in which every folder was read and every new
	// message handled; zero before the first.
	LastSync time.Time
	// LastSyncStarted is when that sync began. Each folder is read after it, so every
	// message that was in a watched folder by then has been handed to the Handler (mail
	// the server had accepted but not yet delivered to a folder excepted).
	LastSyncStarted time.Time
	// LastError is the most recent failure (connection, server, store or handler) and
	// LastErrorAt when it happened. It stays until the next failure: compare
	// LastErrorAt with LastSync to tell whether it is still current.
	LastError   error
	LastErrorAt time.Time
	// Folders are the folders being watched, each with its entry and how it was chosen,
	// as resolved at the latest connection (or since, when a discovered folder
	// vanished); nil before the first connection. The slice is never modified: copy it
	// before changing it.
	Folders []WatchedFolder
}

// Watcher watches IMAP folders for new mail and hands every new message to a Handler, once
// and in UID order, remembering how far it got in Positions. Build it with NewWatcher and
// start it with Run.
//
// It only reads: it opens folders with EXAMINE, fetches with BODY.PEEK, and never sets a
// flag, moves, deletes or expunges.
//
// It keeps one connection. Each sync reads every folder in turn: EXAMINE, then UID FETCH
// of the UIDs above the stored position (a cheap range, whatever the folder's size), then
// the bodies in small batches, calling the Handler and saving the position after each
// message. The first folder is read last, so that it stays selected; then, if the server
// has IDLE, the Watcher sends a NOOP (which reports mail that arrived during the sync)
// and idles on that folder until the server reports new mail (EXISTS), the sweep timer
// fires or SyncNow is called, and syncs again. The EXISTS only signals a channel from
// go-imap's read loop; the IDLE is ended and the sync run from Run's goroutine. One
// second into the IDLE that follows a wake-up it syncs once more, for servers that miss
// mail arriving just as IDLE starts (see recheckDelay). New mail in the other folders
// (Junk) is seen at the next sweep or wake-up, not pushed: within SweepInterval
// (25 minutes by default) when nothing else arrives. That delays its DetectedAt, never a
// latency, which is measured from INTERNALDATE; a reminder asks for a sync (SyncNow)
// before deciding that nothing came. Without IDLE the Watcher syncs
// every PollInterval.
//
// A folder's first sync (no stored position, or a changed UIDVALIDITY) hands over what
// arrived since WatchOptions.Since: of the messages below the folder's UIDNEXT, those
// whose INTERNALDATE is at or after Since, and everything from UIDNEXT on; once they are
// handled it stores UIDNEXT-1 (or the highest UID seen) as the position. Which UIDs it
// looks at depends on what WatchOptions.Mark knows:
//
//   - A Mark taken at or before Since in the same folder instance (the daemon takes one
//     just before each send, so the oldest open probe has one): nothing below its UIDNext
//     can have arrived since, so the first sync is one UID FETCH of the range from
//     UIDNext on, whatever the folder's size (mail moved or appended in later gets a new
//     UID, so it is still seen, and is kept or left out by its date). The server's side
//     of that is a few milliseconds, except that on Dovecot's maildir the first message
//     body a new connection opens can cost a read of its whole dovecot-uidlist and a
//     rescan of the maildir directory (for mail delivered since Dovecot last rewrote
//     that list), whichever way the UID was found.
//   - No usable mark: one UID SEARCH SINCE over the UIDs below UIDNEXT (the day before
//     Since, as SINCE is by date in the server's zone), then the date filter. Dovecot has
//     no date index, so that search walks the whole folder (about 0.25 s warm and 0.6 s
//     cold for 50,000 messages); it happens once per folder.
//
// Either way every later sync is a UID range above the stored position. With no Since
// (or a zero one) there is nothing to look for: the first sync stores UIDNEXT-1 and
// hands over only what arrives afterwards.
//
// If a Handler error interrupts a first sync, the Watcher remembers in memory which old
// messages to leave out and resumes where it stopped. If the process dies during a first
// sync after handling some of its messages, the next start resumes from the stored
// position without that memory: messages older than Since that sit between the new ones in
// UID order (moved in, or appended with an old date) are then handed over too.
//
// Any connection, server or Positions error closes the connection; Run reconnects after
// a backoff. A Watcher is safe for concurrent use, but Run must not run twice at once.
type Watcher struct {
	srv  Server
	pos  Positions
	h    Handler
	opts WatchOptions
	log  *slog.Logger

	nudge   chan struct{}
	running atomic.Bool

	// Used by Run's goroutine only.
	firsts  map[string]window        // first syncs a Handler error interrupted, by folder
	absent  map[string]bool          // folders logged as missing
	folders []WatchedFolder          // what the entries name on the server, see discover
	stale   bool                     // discover again before the next sync
	told    map[string]WatchedFolder // what was last logged about each attribute entry

	mu    sync.Mutex
	state WatchState
}

// NewWatcher returns a Watcher that reads the folders of the IMAP server s, hands new
// messages to h and keeps its place in pos. It does not connect: Run does.
func NewWatcher(s Server, pos Positions, h Handler, opts WatchOptions) *Watcher {
	if len(opts.Folders) == 0 {
		opts.Folders = DefaultWatchFolders
	}
	opts.Folders = slices.Clone(opts.Folders)
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultWatchMaxSize
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultWatchPollInterval
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = DefaultWatchSweepInterval
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultWatchBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultWatchMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.Backoff)
	if opts.AuthMaxBackoff <= 0 {
		opts.AuthMaxBackoff = DefaultWatchAuthMaxBackoff
	}
	opts.AuthMaxBackoff = max(opts.AuthMaxBackoff, opts.MaxBackoff)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{
		srv:    s,
		pos:    pos,
		h:      h,
		opts:   opts,
		log:    log,
		nudge:  make(chan struct{}, 1),
		firsts: make(map[string]window),
		absent: make(map[string]bool),
		told:   make(map[string]WatchedFolder),
	}
}

// Run watches until ctx ends, then closes the connection and returns nil. It reconnects
// after any error, waiting WatchOptions.Backoff, doubled after each failure up to
// MaxBackoff (AuthMaxBackoff after a refused login, which is retried like the rest and
// logged each time) and reset by a successful sync. It returns an error at once only
// when it cannot start: a Server that cannot be used, a nil Positions or Handler, or Run
// already running.
func (w *Watcher) Run(ctx context.Context) error {
	switch {
	case w.pos == nil:
		return errors.New("imap watcher: no Positions")
	case w.h == nil:
		return errors.New("imap watcher: no Handler")
	case w.srv.Username == "":
		return fmt.Errorf("imap %s: no username", w.srv.Addr())
	}
	if err := w.srv.check("imap"); err != nil {
		return err
	}
	for _, e := range w.opts.Folders {
		if _, _, err := SpecialUseEntry(e); err != nil {
			return fmt.Errorf("imap watcher: folder %s: %w", e, err)
		}
	}
	if !w.running.CompareAndSwap(false, true) {
		return errors.New("imap watcher: Run is already running")
	}
	defer w.running.Store(false)

	delay := w.opts.Backoff
	for {
		synced, err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if synced {
			delay = w.opts.Backoff
		}
		w.recordError(err)
		w.log.Warn("imap watcher: connection lost, reconnecting", "err", err, "retry_in", delay)
		if sleep(ctx, delay) != nil {
			return nil
		}
		limit := w.opts.MaxBackoff
		if loginRefused(err) {
			limit = w.opts.AuthMaxBackoff
		}
		delay = min(2*delay, limit)
	}
}

// loginRefused reports whether err is a refused login, other than the temporary refusal
// ([UNAVAILABLE]) a server gives while its authentication service is still starting.
func loginRefused(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeUnavailable {
		return false
	}
	return errors.Is(err, ErrAuthFailed)
}

// SyncNow asks Run to read every folder soon: at once if it is idling or waiting to poll,
// after the sync in progress otherwise. It never blocks, and does nothing while
// disconnected (the next connection syncs anyway).
func (w *Watcher) SyncNow() {
	select {
	case w.nudge <- struct{}{}:
	default:
	}
}

// State returns a snapshot of the watcher's health.
func (w *Watcher) State() WatchState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

func (w *Watcher) setConnected(connected bool) {
	w.mu.Lock()
	w.state.Connected = connected
	w.state.Idling = false
	w.mu.Unlock()
	if !connected && w.opts.OnDisconnect != nil {
		w.opts.OnDisconnect()
	}
}

func (w *Watcher) setIdling(idling bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.Idling = idling
}

func (w *Watcher) recordSync(started time.Time) {
	now := w.opts.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.LastSync, w.state.LastSyncStarted = now, started
}

func (w *Watcher) recordError(err error) {
	now := w.opts.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state.LastError, w.state.LastErrorAt = err, now
}

// session connects, then syncs and waits (IDLE or poll) until an error or the end of ctx.
// synced reports whether at least one sync got through every folder without a
// connection error, which resets the backoff.
func (w *Watcher) session(ctx context.Context) (synced bool, err error) {
	exists := make(chan struct{}, 1)
	c, err := DialIMAPWithOptions(ctx, w.srv, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// This runs on go-imap's read loop: it must not call the client, only signal.
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case exists <- struct{}{}:
					default:
					}
				}
			},
		},
	})
	if err != nil {
		return false, err
	}
	defer c.Close()
	// go-imap's commands take no context: closing the connection ends whatever runs.
	defer context.AfterFunc(ctx, func() { c.Close() })()

	w.setConnected(true)
	defer w.setConnected(false)
	s := &watchConn{ctx: ctx, c: c, timeout: w.srv.timeout()}
	w.stale = true // a folder found by its attribute may have changed while disconnected
	canIdle := c.Caps().Has(imap.CapIdle)
	w.log.Info("imap watcher: connected", "server", w.srv.Addr(), "idle", canIdle)

	rechecked := false // the sync about to run is a recheck
	announced := false // OnConnectSynced was called for this connection
	fail := func(err error) (bool, error) { return synced, fmt.Errorf("imap %s: %w", w.srv.Addr(), err) }
	for {
		// Whatever was signalled so far, this sync covers.
		drain(exists)
		drain(w.nudge)
		started := w.opts.Now()
		complete, err := w.syncAll(ctx, s)
		if err != nil {
			return fail(err)
		}
		synced = true
		if complete {
			w.recordSync(started)
			if !announced && w.opts.OnConnectSynced != nil {
				announced = true
				w.opts.OnConnectSynced()
			}
		}
		if canIdle {
			rechecked, err = w.idle(ctx, s, exists, !rechecked)
		} else {
			err = w.pause(ctx, s, exists)
		}
		if err != nil {
			return fail(err)
		}
	}
}

func drain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// idle runs IDLE on the selected folder until new mail, a nudge or the sweep timer (or,
// if recheck, recheckDelay), then ends it; rechecked reports that recheckDelay ended it.
// A connection that dies meanwhile shows as an error from IdleCommand.Wait.
func (w *Watcher) idle(ctx context.Context, s *watchConn, exists <-chan struct{}, recheck bool) (rechecked bool, err error) {
	// Some servers (imapmemserver) report in IDLE only what changes after it starts, so
	// mail that arrived since the last command would wait for the next change. A NOOP
	// first reports it, leaving a window of one round trip instead of a whole sync.
	if err := s.do(func() error { return s.c.Noop().Wait() }); err != nil {
		return false, fmt.Errorf("NOOP before IDLE: %w", err)
	}
	select {
	case <-exists:
		return false, nil
	case <-w.nudge:
		return false, nil
	default:
	}
	wait := w.opts.SweepInterval
	if recheck {
		wait = min(wait, recheckDelay)
	}
	sweep := time.NewTimer(wait)
	defer sweep.Stop()
	var cmd *imapclient.IdleCommand
	if err := s.do(func() (err error) { cmd, err = s.c.Idle(); return err }); err != nil {
		return false, fmt.Errorf("IDLE: %w", err)
	}
	w.setIdling(true)
	defer w.setIdling(false)
	var why string
	select {
	case <-ctx.Done():
		return false, ctx.Err() // session closes the connection
	case <-s.c.Closed():
		err := cmd.Wait()
		if err == nil {
			err = errors.New("connection closed")
		}
		return false, fmt.Errorf("IDLE: %w", err)
	case <-exists:
		why = "new mail"
	case <-w.nudge:
		why = "sync requested"
	case <-sweep.C:
		why = "sweep"
		if recheck && wait < w.opts.SweepInterval {
			why, rechecked = "recheck", true
		}
	}
	w.log.Debug("imap watcher: ending IDLE", "why", why)
	err = s.do(func() error {
		if err := cmd.Close(); err != nil {
			return err
		}
		return cmd.Wait()
	})
	if err != nil {
		return false, fmt.Errorf("end IDLE: %w", err)
	}
	return rechecked, nil
}

// pause waits PollInterval (or for a nudge, or an EXISTS some command brought along) on a
// server without IDLE.
func (w *Watcher) pause(ctx context.Context, s *watchConn, exists <-chan struct{}) error {
	t := time.NewTimer(w.opts.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.c.Closed():
		return errors.New("connection closed while waiting to poll")
	case <-exists:
	case <-w.nudge:
	case <-t.C:
	}
	return nil
}

// errFolderMissing marks a folder the server does not have.
var errFolderMissing = errors.New("no such folder")

// handlerError is a Handler's failure: it stops the folder's batch, not the connection.
type handlerError struct {
	folder string
	uid    uint32
	err    error
}

func (e *handlerError) Error() string {
	return fmt.Sprintf("handle message %d in %s: %v", e.uid, e.folder, e.err)
}

func (e *handlerError) Unwrap() error { return e.err }

// syncAll reads every folder, the first one last so that IDLE finds it selected.
// complete is false if a Handler failed; err is a connection,
// server or Positions error, after which the connection must go.
//
// A missing folder is looked for again at every sync (one EXAMINE and one LIST): a
// folder deleted and created again (a new UIDVALIDITY) must be read as soon as it is
// back, not once the connection happens to drop.
func (w *Watcher) syncAll(ctx context.Context, s *watchConn) (complete bool, err error) {
	if w.stale {
		if err := w.discover(s); err != nil {
			return false, err
		}
	}
	var folders []string
	for _, f := range w.folders {
		if f.Name != "" {
			folders = append(folders, f.Name)
		}
	}
	if len(folders) > 1 {
		folders = append(folders[1:], folders[0])
	}
	complete = true
	for _, folder := range folders {
		err := w.syncFolder(ctx, s, folder)
		var he *handlerError
		switch {
		case err == nil:
			if w.absent[folder] {
				w.log.Info("imap watcher: folder exists now", "folder", folder)
				delete(w.absent, folder)
			}
		case errors.Is(err, errFolderMissing):
			// A configuration matter, not a failed sync: it does not make the sync incomplete.
			// A folder found by its attribute may have been renamed: list again.
			w.stale = w.stale || slices.ContainsFunc(w.folders, func(f WatchedFolder) bool { return f.Name == folder && f.Discovered() })
			if !w.absent[folder] {
				w.log.Warn("imap watcher: folder does not exist; looking for it again at every sync",
					"folder", folder, "err", err)
				w.absent[folder] = true
			}
		case errors.As(err, &he) && ctx.Err() == nil:
			complete = false
			w.recordError(err)
			w.log.Warn("imap watcher: handler failed; the message is offered again at the next sync",
				"folder", he.folder, "uid", he.uid, "err", he.err)
		default:
			return false, err
		}
	}
	return complete, nil
}

// discover resolves the folder entries on s (see WatchOptions.Folders) and logs what an
// attribute entry names whenever that changes: once, not at every connection.
func (w *Watcher) discover(s *watchConn) error {
	fs, err := ResolveFoldersOn(s.ctx, s.c, s.timeout, w.opts.Folders)
	if err != nil {
		return err
	}
	w.stale = false
	for _, f := range fs {
		if !f.Discovered() {
			continue
		}
		if f.Chosen == ChosenNone {
			w.stale = true // looked for again at every sync, like a missing folder
		}
		if w.told[f.Entry] == f {
			continue
		}
		w.told[f.Entry] = f
		log := w.log.With("entry", f.Entry, "folder", f.Name, "chosen", f.Chosen)
		switch f.Chosen {
		case ChosenBySpecialUse:
			log.Info("imap watcher: watching the folder the server marks " + f.Entry)
		case ChosenByFallback:
			log.Warn("imap watcher: the server marks no folder " + f.Entry + " (no SPECIAL-USE); watching a folder by its usual name instead")
		default:
			log.Warn("imap watcher: the server marks no folder " + f.Entry + " and has none of its usual names; looking again at every sync")
		}
	}
	if roles, ok := w.pos.(DiscoveredFolders); ok {
		for _, f := range fs {
			if f.Discovered() && f.Name != "" {
				if err := w.followRename(s, roles, f); err != nil {
					return err
				}
			}
		}
	}
	w.folders = fs
	w.mu.Lock()
	w.state.Folders = fs
	w.mu.Unlock()
	return nil
}

// followRename carries the position of the folder f's entry named before over to f's
// folder when that one has none and is the same folder renamed (see DiscoveredFolders),
// then stores f's folder as the entry's.
func (w *Watcher) followRename(s *watchConn, roles DiscoveredFolders, f WatchedFolder) error {
	prev, ok, err := roles.DiscoveredFolder(f.Entry)
	if err != nil {
		return fmt.Errorf("read the folder %s named before: %w", f.Entry, err)
	}
	if ok && prev == f.Name {
		return nil
	}
	if ok {
		if err := w.adopt(s, prev, f); err != nil {
			return err
		}
	}
	if err := roles.SetDiscoveredFolder(f.Entry, f.Name); err != nil {
		return fmt.Errorf("store the folder %s names (%s): %w", f.Entry, f.Name, err)
	}
	return nil
}

// adopt gives f's folder the position of prev, if prev is gone and f's folder is prev
// renamed: same UIDVALIDITY, and a UIDNEXT past prev's position.
func (w *Watcher) adopt(s *watchConn, prev string, f WatchedFolder) error {
	log := w.log.With("entry", f.Entry, "folder", f.Name, "was", prev)
	if _, have, err := w.pos.Position(f.Name); err != nil || have {
		return err // read before under this name: its own position stands
	}
	old, have, err := w.pos.Position(prev)
	if err != nil || !have {
		return err
	}
	var st *imap.StatusData
	if err := s.do(func() (err error) {
		_, err = s.c.Status(prev, &imap.StatusOptions{UIDValidity: true}).Wait()
		return err
	}); err == nil {
		log.Info("imap watcher: the folder " + f.Entry + " named before still exists; reading the new one afresh")
		return nil
	}
	if err := s.do(func() (err error) {
		st, err = s.c.Status(f.Name, &imap.StatusOptions{UIDValidity: true, UIDNext: true}).Wait()
		return err
	}); err != nil {
		return fmt.Errorf("STATUS %s (UIDVALIDITY UIDNEXT): %w", f.Name, err)
	}
	if st.UIDValidity != old.UIDValidity || st.UIDNext == 0 || uint32(st.UIDNext) <= old.LastUID {
		log.Info("imap watcher: the folder "+f.Entry+" names is not the one it named before renamed; reading it afresh",
			"uidvalidity", st.UIDValidity, "old_uidvalidity", old.UIDValidity)
		return nil
	}
	if err := w.pos.SetPosition(f.Name, old); err != nil {
		return fmt.Errorf("carry the position of %s over to %s: %w", prev, f.Name, err)
	}
	log.Info("imap watcher: folder renamed; continuing from its position", "uidvalidity", old.UIDValidity, "last_uid", old.LastUID)
	return nil
}

// window says which messages of a folder are new: those with a UID above after; but of
// those with a UID up to datedUpTo (the first sync's UIDNEXT-1), only the ones that
// arrived at or after since.
type window struct {
	uidValidity uint32
	after       uint32
	datedUpTo   uint32
	since       time.Time
}

func (win window) wants(m msgMeta) bool {
	return m.uid > win.after && (m.uid > win.datedUpTo || !m.date.Before(win.since))
}

// msgMeta is what the Watcher learns about a message before fetching its body.
type msgMeta struct {
	uid  uint32
	date time.Time
	size int64
}

// syncFolder hands the folder's new messages to the Handler, saving the position after
// each. It returns errFolderMissing (wrapped) for a folder the server does not have, and
// a *handlerError when the Handler fails.
func (w *Watcher) syncFolder(ctx context.Context, s *watchConn, folder string) error {
	sel, err := s.examine(folder)
	if err != nil {
		return err
	}
	pos, ok, err := w.pos.Position(folder)
	if err != nil {
		return fmt.Errorf("read the position of %s: %w", folder, err)
	}
	var (
		win   window
		ids   imap.UIDSet // the UIDs to ask about
		first = !ok || pos.UIDValidity != sel.UIDValidity
	)
	if first {
		if ok {
			w.log.Info("imap watcher: UIDVALIDITY changed, reading the folder afresh", "folder", folder,
				"old_uidvalidity", pos.UIDValidity, "uidvalidity", sel.UIDValidity)
		}
		win, ids, err = w.planFirstSync(s, folder, sel)
		if err != nil {
			return err
		}
	} else {
		win = window{uidValidity: sel.UIDValidity, after: pos.LastUID}
		if f, ok := w.firsts[folder]; ok && f.uidValidity == sel.UIDValidity && f.datedUpTo > pos.LastUID {
			win.datedUpTo, win.since = f.datedUpTo, f.since
		} else {
			delete(w.firsts, folder)
		}
		if sel.NumMessages > 0 && pos.LastUID < math.MaxUint32 {
			// UID FETCH N:* returns the last message even when N is above every UID:
			// window.wants drops it.
			ids.AddRange(imap.UID(pos.LastUID+1), 0)
		}
	}

	var msgs []msgMeta
	if len(ids) > 0 {
		if msgs, err = s.fetchMeta(folder, ids); err != nil {
			return err
		}
	}
	detected := w.opts.Now()
	// top is where the position ends once every wanted message is handled: past
	// everything seen, and past UIDNEXT-1 on a first sync.
	top := max(win.after, win.datedUpTo)
	var todo []msgMeta
	for _, m := range msgs {
		top = max(top, m.uid)
		if win.wants(m) {
			todo = append(todo, m)
		}
	}

	w.log.Debug("imap watcher: read folder", "folder", folder, "uidvalidity", sel.UIDValidity,
		"exists", sel.NumMessages, "uidnext", sel.UIDNext, "after", win.after, "first_sync", first,
		"seen", len(msgs), "new", len(todo))

	save := func(last uint32) error {
		if !first && last == pos.LastUID {
			return nil
		}
		p := Position{UIDValidity: sel.UIDValidity, LastUID: last}
		if err := w.pos.SetPosition(folder, p); err != nil {
			return fmt.Errorf("save the position of %s at UID %d: %w", folder, last, err)
		}
		pos, first = p, false
		return nil
	}
	if len(todo) == 0 {
		return save(top)
	}

	for len(todo) > 0 {
		n, size := 0, int64(0)
		for n < len(todo) && n < bodyBatchMessages {
			size += min(todo[n].size, int64(w.opts.MaxSize))
			if n > 0 && size > bodyBatchBytes {
				break
			}
			n++
		}
		batch := todo[:n]
		bodies, err := s.fetchBodies(folder, batch, w.opts.MaxSize)
		if err != nil {
			return err
		}
		for i, m := range batch {
			if raw, found := bodies[m.uid]; !found {
				w.log.Warn("imap watcher: message vanished before its body was fetched", "folder", folder, "uid", m.uid)
			} else {
				f := Fetched{
					Folder:       folder,
					UIDValidity:  sel.UIDValidity,
					UID:          m.uid,
					InternalDate: m.date,
					Raw:          raw,
					Size:         m.size,
					Truncated:    m.size > int64(len(raw)),
					DetectedAt:   detected,
				}
				if err := w.h(ctx, f); err != nil {
					if win.datedUpTo > 0 {
						w.firsts[folder] = win
					}
					return &handlerError{folder: folder, uid: m.uid, err: err}
				}
			}
			// Everything below the next wanted message is handled or unwanted.
			next := top
			if i+1 < len(todo) {
				next = todo[i+1].uid - 1
			}
			if err := save(next); err != nil {
				return err
			}
		}
		todo = todo[n:]
	}
	delete(w.firsts, folder)
	return nil
}

// planFirstSync returns what a folder's first sync asks about: the messages below UIDNEXT
// that SEARCH SINCE finds, and everything from UIDNEXT on.
func (w *Watcher) planFirstSync(s *watchConn, folder string, sel *imap.SelectData) (window, imap.UIDSet, error) {
	var base uint32 // UIDNEXT-1: what was there when we looked
	switch {
	case sel.UIDNext > 0:
		base = uint32(sel.UIDNext) - 1
	case sel.NumMessages > 0:
		// No UIDNEXT: the last message's UID marks the same spot.
		last, err := s.fetchMeta(folder, nil, imap.SeqSetNum(sel.NumMessages))
		if err != nil {
			return window{}, nil, err
		}
		for _, m := range last {
			base = max(base, m.uid)
		}
	}
	var since time.Time
	if w.opts.Since != nil {
		since = w.opts.Since()
	}
	search := !since.IsZero()
	if !search {
		since = w.opts.Now()
	}
	// INTERNALDATE has whole seconds: a message that arrived in Since's second is dated
	// before Since.
	win := window{uidValidity: sel.UIDValidity, datedUpTo: base, since: since.Truncate(time.Second)}
	var ids imap.UIDSet
	from := base + 1 // the first UID asked about unconditionally
	if search && base > 0 && sel.NumMessages > 0 {
		if next, ok := w.markFor(folder, sel, since); ok {
			// Nothing below the mark arrived since Since: leave it out, even if its date
			// says otherwise (UID FETCH N:* also returns the last message below N).
			win.after, from = next-1, min(from, next)
		} else {
			// SINCE compares dates in the server's zone, which is within a day of UTC.
			day := since.UTC().AddDate(0, 0, -1)
			uids, err := s.searchSince(folder, base, day)
			if err != nil {
				return window{}, nil, err
			}
			ids.AddNum(uids...)
		}
	}
	if sel.NumMessages > 0 && from > 0 {
		ids.AddRange(imap.UID(from), 0)
	}
	return win, ids, nil
}

// markFor returns the UIDNEXT of the folder's mark at or before since, if one is usable:
// from the folder's current instance and not beyond its UIDNEXT. It logs why not.
func (w *Watcher) markFor(folder string, sel *imap.SelectData, since time.Time) (uidNext uint32, ok bool) {
	if w.opts.Mark == nil {
		return 0, false
	}
	m, ok, err := w.opts.Mark(folder, since)
	log := w.log.With("folder", folder, "since", since)
	switch {
	case err != nil:
		log.Warn("imap watcher: cannot read the folder's mark; searching the folder by date instead", "err", err)
	case !ok:
		log.Info("imap watcher: no mark of the folder before the oldest mail wanted; searching the folder by date")
	case m.UIDValidity != sel.UIDValidity:
		log.Info("imap watcher: the folder's mark is from another UIDVALIDITY; searching the folder by date",
			"mark_uidvalidity", m.UIDValidity, "uidvalidity", sel.UIDValidity)
	case m.At.After(since):
		log.Warn("imap watcher: the mark offered is later than the oldest mail wanted; searching the folder by date",
			"mark_at", m.At)
	case m.UIDNext == 0 || sel.UIDNext > 0 && m.UIDNext > uint32(sel.UIDNext):
		log.Warn("imap watcher: the folder's mark is beyond its UIDNEXT; searching the folder by date",
			"mark_uidnext", m.UIDNext, "uidnext", sel.UIDNext)
	default:
		log.Info("imap watcher: first sync from the folder's mark", "mark_at", m.At, "mark_uidnext", m.UIDNext,
			"uidnext", sel.UIDNext)
		return m.UIDNext, true
	}
	return 0, false
}

// watchConn is a Watcher's logged-in connection; every command runs under a watchdog.
type watchConn struct {
	ctx     context.Context
	c       *imapclient.Client
	timeout time.Duration
}

// do runs one command under a watchdog: when ctx ends or the server's timeout passes, the
// connection is closed and the error says which.
func (s *watchConn) do(f func() error) error {
	stop := Watchdog(s.ctx, s.timeout, s.c)
	return stop(f())
}

// examine opens folder read-only. A folder the server does not have gives an error
// wrapping errFolderMissing.
func (s *watchConn) examine(folder string) (*imap.SelectData, error) {
	var data *imap.SelectData
	err := s.do(func() (err error) {
		data, err = s.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	})
	if err == nil {
		return data, nil
	}
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
		// Dovecot 2.3 says so without [NONEXISTENT]: ask LIST.
		if ie.Code == imap.ResponseCodeNonExistent {
			return nil, fmt.Errorf("EXAMINE %s: %w: %w", folder, errFolderMissing, err)
		}
		if exists, lerr := s.exists(folder); lerr == nil && !exists {
			return nil, fmt.Errorf("EXAMINE %s: %w: %w", folder, errFolderMissing, err)
		}
	}
	return nil, fmt.Errorf("EXAMINE %s: %w", folder, err)
}

// exists reports whether LIST knows folder.
func (s *watchConn) exists(folder string) (bool, error) {
	var list []*imap.ListData
	err := s.do(func() (err error) {
		list, err = s.c.List("", folder, nil).Collect()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("LIST %s: %w", folder, err)
	}
	return slices.ContainsFunc(list, func(l *imap.ListData) bool {
		return l.Mailbox == folder || strings.EqualFold(folder, "INBOX") && strings.EqualFold(l.Mailbox, "INBOX")
	}), nil
}

// searchSince returns the UIDs up to base of the messages that arrived on day or later.
func (s *watchConn) searchSince(folder string, base uint32, day time.Time) ([]imap.UID, error) {
	var data *imap.SearchData
	criteria := &imap.SearchCriteria{
		UID:   []imap.UIDSet{{{Start: 1, Stop: imap.UID(base)}}},
		Since: day,
	}
	err := s.do(func() (err error) {
		data, err = s.c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("UID SEARCH UID 1:%d SINCE %s in %s: %w", base, day.Format("2-Jan-2006"), folder, err)
	}
	return data.AllUIDs(), nil
}

// fetchMeta returns the UID, INTERNALDATE and RFC822.SIZE of the messages in uids (or,
// if uids is nil, in seqs), in UID order.
func (s *watchConn) fetchMeta(folder string, uids imap.UIDSet, seqs ...imap.SeqSet) ([]msgMeta, error) {
	var set imap.NumSet = uids
	if uids == nil {
		set = seqs[0]
	}
	var bufs []*imapclient.FetchMessageBuffer
	err := s.do(func() (err error) {
		bufs, err = s.c.Fetch(set, &imap.FetchOptions{UID: true, InternalDate: true, RFC822Size: true}).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("FETCH %s (UID INTERNALDATE RFC822.SIZE) in %s: %w", set, folder, err)
	}
	msgs := make([]msgMeta, 0, len(bufs))
	for _, b := range bufs {
		if b.UID == 0 {
			continue // an unsolicited FETCH (a flag change) that go-imap attached to ours
		}
		msgs = append(msgs, msgMeta{uid: uint32(b.UID), date: b.InternalDate, size: b.RFC822Size})
	}
	// Not cmp.Compare: the package's tests declare a function named cmp.
	slices.SortFunc(msgs, func(a, b msgMeta) int { return int(int64(a.uid) - int64(b.uid)) })
	return msgs, nil
}

// fetchBodies returns the first maxSize bytes of each message in batch, by UID, without
// setting \Seen. A message expunged meanwhile is absent.
func (s *watchConn) fetchBodies(folder string, batch []msgMeta, maxSize int) (map[uint32][]byte, error) {
	var uids imap.UIDSet
	for _, m := range batch {
		uids.AddNum(imap.UID(m.uid))
	}
	opts := &imap.FetchOptions{
		UID: true,
		BodySection: []*imap.FetchItemBodySection{{
			Peek:    true,
			Partial: &imap.SectionPartial{Offset: 0, Size: int64(maxSize)},
		}},
	}
	var bufs []*imapclient.FetchMessageBuffer
	err := s.do(func() (err error) {
		bufs, err = s.c.Fetch(uids, opts).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("UID FETCH %s (BODY.PEEK[]<0.%d>) in %s: %w", uids, maxSize, folder, err)
	}
	bodies := make(map[uint32][]byte, len(bufs))
	for _, b := range bufs {
		if b.UID == 0 || len(b.BodySection) == 0 {
			continue
		}
		raw := b.BodySection[0].Bytes
		if raw == nil {
			raw = []byte{}
		}
		if len(raw) > maxSize {
			raw = raw[:maxSize]
		}
		bodies[uint32(b.UID)] = raw
	}
	return bodies, nil
}
