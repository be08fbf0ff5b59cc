package mailbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"supportprobe/probe"
)

// SentFolderOptions tune a SentFolder. The zero value is the production setting.
type SentFolderOptions struct {
	// Now is our clock, read around each APPEND to measure the skew. Default time.Now.
	Now func() time.Time
	// Discover uses the mailbox the server marks \Sent (SPECIAL-USE, RFC 6154), whatever
	// it is called in the account's language, and the folder NewSentFolder was given only
	// when the server marks none. The name found is kept for the SentFolder's life.
	Discover bool
	// ProviderFiles says the provider files its own copy of every SMTP submission in the
	// sent folder (Gmail, Microsoft 365): AppendSent waits up to ProviderWait for that
	// copy before appending one. Without it AppendSent still looks once.
	ProviderFiles bool
	// ProviderWait bounds that wait; default 15 s. PollEvery is the pause between looks;
	// default 1 s.
	ProviderWait, PollEvery time.Duration
}

// ErrProviderCopy is wrapped by AppendSent's error when the provider had already filed
// its own copy of the message: nothing was appended, so there is no second copy, and no
// clock skew was measured (the provider's copy was dated at submission, not by us).
var ErrProviderCopy = errors.New("the provider filed its own copy in the sent folder; none appended and no clock skew measured")

// SentFolder files copies of sent inquiries in one IMAP folder and finds them again,
// implementing probe.SentFolder. Every call opens its own connection, logs in, and
// logs out (these calls are rare); ctx and Server.Timeout bound each step.
//
// It only ever adds messages: it appends with the \Seen flag, as a mail client files its
// own sent mail, opens the folder read-only (EXAMINE) to look, fetches no message
// content, and never deletes. It is safe for concurrent use.
type SentFolder struct {
	srv    Server
	folder string
	now    func() time.Time
	opts   SentFolderOptions

	mu         sync.Mutex
	discovered string // the \Sent mailbox found with Discover; "" until found
}

var _ probe.SentFolder = (*SentFolder)(nil)

// NewSentFolder returns a SentFolder for folder (for example "Sent") on the IMAP server s.
// A folder that does not exist is created by the first Append.
func NewSentFolder(s Server, folder string, opts SentFolderOptions) *SentFolder {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ProviderWait <= 0 {
		opts.ProviderWait = 15 * time.Second
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = time.Second
	}
	return &SentFolder{srv: s, folder: folder, now: opts.Now, opts: opts}
}

// Folder returns the folder's name: with Discover, the mailbox the server marks \Sent,
// found by LIST (the folder NewSentFolder was given when the server marks none).
func (f *SentFolder) Folder(ctx context.Context) (string, error) {
	var name string
	err := f.session(ctx, func(s *session) error {
		var err error
		name, err = f.resolve(s)
		return err
	})
	return name, err
}

// resolve returns the folder to use on s, listing the server's mailboxes once when
// Discover is set.
func (f *SentFolder) resolve(s *session) (string, error) {
	if !f.opts.Discover {
		return f.folder, nil
	}
	f.mu.Lock()
	found := f.discovered
	f.mu.Unlock()
	if found != "" {
		return found, nil
	}
	name, err := s.specialUse(imap.MailboxAttrSent)
	if err != nil {
		return "", err
	}
	if name == "" {
		return f.folder, nil // the server marks none; not kept, so a later \Sent is found
	}
	f.mu.Lock()
	f.discovered = name
	f.mu.Unlock()
	return name, nil
}

// SpecialUseOn is SpecialUseFolder on the logged-in connection c, each step bounded by
// ctx and timeout.
func SpecialUseOn(ctx context.Context, c *imapclient.Client, timeout time.Duration, attr imap.MailboxAttr) (string, error) {
	return (&session{ctx: ctx, c: c, timeout: timeout}).specialUse(attr)
}

// SpecialUseFolder returns the name of the mailbox the IMAP server s marks with attr
// (imap.MailboxAttrSent, imap.MailboxAttrJunk …, RFC 6154), or "" when it marks none.
func SpecialUseFolder(ctx context.Context, srv Server, attr imap.MailboxAttr) (string, error) {
	f := &SentFolder{srv: srv}
	var name string
	err := f.session(ctx, func(s *session) (err error) {
		name, err = s.specialUse(attr)
		return err
	})
	return name, err
}

// Appended describes a message Append filed, with what the clock skew was measured from.
//
// The server sets INTERNALDATE, truncated to the second, at some instant during the
// APPEND; on our clock that instant lies between Before and After. So the server's
// clock minus ours lies in (InternalDate − After, InternalDate + 1 s − Before), and Skew
// is the middle of that interval:
//
//	Skew = InternalDate + 500 ms − (Before + After)/2, rounded to the millisecond
//
// Uncertainty is the interval's half-width, 500 ms + (After − Before)/2: about ±0.5 s
// on a fast link and never better, since INTERNALDATE has one-second resolution.
type Appended struct {
	// UIDValidity and UID identify the copy in the folder.
	UIDValidity uint32
	UID         imap.UID
	// InternalDate is the copy's INTERNALDATE: the server's clock, whole seconds.
	InternalDate time.Time
	// Before and After are our clock just before the APPEND was sent and just after
	// its OK arrived.
	Before, After time.Time
	// Skew is the server's clock minus ours; Uncertainty bounds its error (see above).
	Skew, Uncertainty time.Duration
}

// AppendSent appends raw to the folder and returns the IMAP server's clock minus ours,
// known to within about ±0.5 s (see Appended). It implements probe.SentFolder.
//
// First it looks for a copy with raw's Message-ID that the provider filed itself: once,
// or, with ProviderFiles, until one appears or ProviderWait has passed. When there is
// one it appends nothing and returns an error wrapping ErrProviderCopy, so the folder
// holds exactly one copy either way.
func (f *SentFolder) AppendSent(ctx context.Context, raw []byte) (time.Duration, error) {
	id, err := messageIDOf(raw)
	if err != nil {
		return 0, fmt.Errorf("append sent copy: %w", err)
	}
	var a Appended
	err = f.session(ctx, func(s *session) error {
		folder, err := f.resolve(s)
		if err != nil {
			return err
		}
		// Real time, not f.now: this is a wait on the network, and a test's frozen
		// clock must not make it endless.
		start := time.Now()
		for {
			_, found, err := s.find(folder, id)
			if err != nil {
				return err
			}
			if found {
				return fmt.Errorf("<%s> in %s: %w", id, folder, ErrProviderCopy)
			}
			if !f.opts.ProviderFiles || time.Since(start) >= f.opts.ProviderWait {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for the provider's copy of <%s> in %s: %w", id, folder, ctx.Err())
			case <-time.After(f.opts.PollEvery):
			}
		}
		a, err = f.appendIn(s, folder, raw)
		return err
	})
	if err != nil {
		return 0, err
	}
	a.Skew, a.Uncertainty = estimateSkew(a.InternalDate, a.Before, a.After)
	return a.Skew, nil
}

// Append appends raw to the folder with the \Seen flag and no date, so that its
// INTERNALDATE is the server's clock at arrival, creating the folder if the server
// answers TRYCREATE. It finds the copy's UID from APPENDUID (UIDPLUS) or, without it, by
// searching the folder for raw's Message-ID, fetches its INTERNALDATE, and measures the
// clock skew from it.
func (f *SentFolder) Append(ctx context.Context, raw []byte) (Appended, error) {
	var a Appended
	err := f.session(ctx, func(s *session) error {
		folder, err := f.resolve(s)
		if err != nil {
			return err
		}
		a, err = f.appendIn(s, folder, raw)
		return err
	})
	if err != nil {
		return Appended{}, err
	}
	a.Skew, a.Uncertainty = estimateSkew(a.InternalDate, a.Before, a.After)
	return a, nil
}

// appendIn is Append on an open session, into folder; it leaves Skew to the caller.
func (f *SentFolder) appendIn(s *session, folder string, raw []byte) (Appended, error) {
	var a Appended
	err := func() error {
		var data *imap.AppendData
		var err error
		for try := 0; ; try++ {
			a.Before = f.now()
			data, err = s.append(folder, raw)
			a.After = f.now()
			var ie *imap.Error
			if try == 0 && errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
				if err := s.do(func() error { return s.c.Create(folder, nil).Wait() }); err != nil {
					return fmt.Errorf("CREATE %s after APPEND answered TRYCREATE: %w", folder, err)
				}
				continue
			}
			break
		}
		if err != nil {
			return fmt.Errorf("APPEND to %s: %w", folder, err)
		}

		sel, err := s.examine(folder)
		if err != nil {
			return err
		}
		a.UIDValidity, a.UID = data.UIDValidity, data.UID
		if a.UID == 0 || a.UIDValidity != sel.UIDValidity {
			// No APPENDUID (no UIDPLUS), or it names another UIDVALIDITY: look for the copy.
			id, err := messageIDOf(raw)
			if err != nil {
				return fmt.Errorf("find the appended copy without APPENDUID: %w", err)
			}
			uids, err := s.searchMessageID(id)
			if err != nil {
				return err
			}
			if len(uids) == 0 {
				return fmt.Errorf("appended copy of <%s> not found in %s", id, folder)
			}
			a.UIDValidity, a.UID = sel.UIDValidity, uids[len(uids)-1] // the newest copy
		}
		msgs, err := s.fetch(imap.UIDSetNum(a.UID), &imap.FetchOptions{UID: true, InternalDate: true})
		if err != nil {
			return err
		}
		if len(msgs) != 1 || msgs[0].InternalDate.IsZero() {
			return fmt.Errorf("FETCH INTERNALDATE of UID %d in %s: got %d messages", a.UID, folder, len(msgs))
		}
		a.InternalDate = msgs[0].InternalDate
		return nil
	}()
	return a, err
}

// estimateSkew returns the middle and half-width of the interval the server's clock minus
// ours must lie in, given an INTERNALDATE (whole seconds, truncated) set while our clock
// read between before and after. See Appended.
func estimateSkew(internal, before, after time.Time) (skew, uncertainty time.Duration) {
	half := after.Sub(before) / 2
	mid := before.Add(half)
	skew = internal.Add(500 * time.Millisecond).Sub(mid).Round(time.Millisecond)
	return skew, 500*time.Millisecond + half
}

// FindSent looks for messageID (angle brackets optional) in the folder and returns the
// INTERNALDATE of its copy, the earliest if there are several. found is false when there
// is none, or no such folder. It opens the folder read-only and fetches only
// INTERNALDATE and ENVELOPE, so no flag changes. It implements probe.SentFolder.
func (f *SentFolder) FindSent(ctx context.Context, messageID string) (internalDate time.Time, found bool, err error) {
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(messageID), "<"), ">")
	if id == "" {
		return time.Time{}, false, errors.New("find sent message: empty Message-ID")
	}
	err = f.session(ctx, func(s *session) error {
		folder, err := f.resolve(s)
		if err != nil {
			return err
		}
		internalDate, found, err = s.find(folder, id)
		return err
	})
	if err != nil {
		return time.Time{}, false, err
	}
	return internalDate, found, nil
}

// find looks for id (no angle brackets) in folder and returns the INTERNALDATE of its
// earliest copy; found is false when there is none, or no such folder.
func (s *session) find(folder, id string) (internalDate time.Time, found bool, err error) {
	if _, err := s.examine(folder); err != nil {
		// No such folder, no copy. Dovecot 2.3 says so without [NONEXISTENT]: ask LIST.
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
			if exists, lerr := s.exists(folder); lerr == nil && !exists {
				return time.Time{}, false, nil
			}
		}
		return time.Time{}, false, err
	}
	uids, err := s.searchMessageID(id)
	if err != nil || len(uids) == 0 {
		return time.Time{}, false, err
	}
	msgs, err := s.fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, InternalDate: true, Envelope: true})
	if err != nil {
		return time.Time{}, false, err
	}
	for _, m := range msgs {
		// SEARCH HEADER matches substrings: keep exact matches only.
		if m.Envelope == nil || m.Envelope.MessageID != id {
			continue
		}
		if !found || m.InternalDate.Before(internalDate) {
			internalDate, found = m.InternalDate, true
		}
	}
	return internalDate, found, nil
}

// specialUse returns the mailbox LIST marks with attr, or "" when none is marked. With
// SPECIAL-USE it asks for the attributes (LIST … RETURN (SPECIAL-USE)); without it, a
// plain LIST, where some servers show them anyway.
func (s *session) specialUse(attr imap.MailboxAttr) (string, error) {
	var opts *imap.ListOptions
	if s.c.Caps().Has(imap.CapSpecialUse) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	var list []*imap.ListData
	err := s.do(func() (err error) {
		list, err = s.c.List("", "*", opts).Collect()
		return err
	})
	if err != nil {
		return "", fmt.Errorf("LIST \"\" * to find the %s folder: %w", attr, err)
	}
	for _, l := range list {
		if slices.Contains(l.Attrs, attr) {
			return l.Mailbox, nil
		}
	}
	return "", nil
}

// session is one logged-in connection of a SentFolder call.
type session struct {
	ctx     context.Context
	c       *imapclient.Client
	timeout time.Duration
}

// session dials, logs in, runs fn, and logs out. Errors are prefixed with the server.
func (f *SentFolder) session(ctx context.Context, fn func(s *session) error) error {
	c, err := DialIMAP(ctx, f.srv)
	if err != nil {
		return err
	}
	defer c.Close()
	s := &session{ctx: ctx, c: c, timeout: f.srv.timeout()}
	if err := fn(s); err != nil {
		return fmt.Errorf("imap %s: %w", f.srv.Addr(), err)
	}
	_ = s.do(func() error { return c.Logout().Wait() }) // done either way
	return nil
}

// do runs one command under a watchdog: when ctx ends or the server's timeout passes, the
// connection is closed and the error says which.
func (s *session) do(f func() error) error {
	stop := Watchdog(s.ctx, s.timeout, s.c)
	return stop(f())
}

func (s *session) append(folder string, raw []byte) (*imap.AppendData, error) {
	var data *imap.AppendData
	err := s.do(func() error {
		cmd := s.c.Append(folder, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
		if _, err := cmd.Write(raw); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		var err error
		data, err = cmd.Wait()
		return err
	})
	return data, err
}

// examine opens folder read-only, so that nothing we do can change a flag in it.
func (s *session) examine(folder string) (*imap.SelectData, error) {
	var data *imap.SelectData
	err := s.do(func() (err error) {
		data, err = s.c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("EXAMINE %s: %w", folder, err)
	}
	return data, nil
}

// exists reports whether LIST knows folder.
func (s *session) exists(folder string) (bool, error) {
	var list []*imap.ListData
	err := s.do(func() (err error) {
		list, err = s.c.List("", folder, nil).Collect()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("LIST %s: %w", folder, err)
	}
	return slices.ContainsFunc(list, func(l *imap.ListData) bool { return l.Mailbox == folder }), nil
}

// searchMessageID returns the UIDs, ascending, of the messages whose Message-ID header
// contains <id>.
func (s *session) searchMessageID(id string) ([]imap.UID, error) {
	var data *imap.SearchData
	err := s.do(func() (err error) {
		data, err = s.c.UIDSearch(&imap.SearchCriteria{
			Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + id + ">"}},
		}, nil).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("UID SEARCH HEADER Message-ID <%s>: %w", id, err)
	}
	uids := data.AllUIDs()
	slices.Sort(uids)
	return uids, nil
}

func (s *session) fetch(uids imap.UIDSet, opts *imap.FetchOptions) ([]*imapclient.FetchMessageBuffer, error) {
	var msgs []*imapclient.FetchMessageBuffer
	err := s.do(func() (err error) {
		msgs, err = s.c.Fetch(uids, opts).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("UID FETCH %s: %w", uids, err)
	}
	return msgs, nil
}

// messageIDOf returns the Message-ID of the message raw, without angle brackets.
func messageIDOf(raw []byte) (string, error) {
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("read message header: %w", err)
	}
	id := strings.TrimSpace(m.Header.Get("Message-ID"))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id == "" {
		return "", errors.New("the message has no Message-ID")
	}
	return id, nil
}
