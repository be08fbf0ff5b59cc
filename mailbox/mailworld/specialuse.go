package mailworld

import (
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Folder is a mailbox a Memory user starts with (AddUserWithFolders), with the
// special-use attributes (RFC 6154, such as imap.MailboxAttrJunk) LIST reports for it.
type Folder struct {
	Name       string
	SpecialUse []imap.MailboxAttr
}

// memDelim is imapmemserver's hierarchy delimiter.
const memDelim = '/'

// AddUserWithFolders adds u with INBOX and the given folders instead of Sent and Junk,
// for an account whose folders carry other names ("Junk Email" marked \Junk, say).
// imapmemserver keeps no special-use attributes, so the world's sessions report them in
// LIST themselves; a folder renamed over IMAP keeps its attributes under its new name,
// as Exchange keeps them when a mailbox's language changes. Errors as AddUser.
func (m *Memory) AddUserWithFolders(u User, folders ...Folder) error {
	names := []string{"INBOX"}
	special := map[string][]imap.MailboxAttr{}
	for _, f := range folders {
		if f.Name == "" || slices.Contains(names, f.Name) {
			return fmt.Errorf("add user %s: folder %q: empty or listed twice: %w", u.Address, f.Name, ErrInvalidUser)
		}
		names = append(names, f.Name)
		if len(f.SpecialUse) > 0 {
			special[f.Name] = slices.Clone(f.SpecialUse)
		}
	}
	return m.addUser(u, names, special)
}

// specialSession is an imapmemserver session that also reports its user's special-use
// attributes in LIST, and keeps track of the folders created and renamed through it.
type specialSession struct {
	imapserver.Session
	m    *Memory
	user string // set by a successful Login
}

var (
	_ imapserver.SessionMove      = (*specialSession)(nil)
	_ imapserver.SessionNamespace = (*specialSession)(nil)
)

func (s *specialSession) Login(username, password string) error {
	if err := s.Session.Login(username, password); err != nil {
		return err
	}
	s.user = username
	return nil
}

func (s *specialSession) Create(name string, options *imap.CreateOptions) error {
	if err := s.Session.Create(name, options); err != nil {
		return err
	}
	s.m.folderEvent(s.user, "", name)
	return nil
}

func (s *specialSession) Rename(name, newName string, options *imap.RenameOptions) error {
	if err := s.Session.Rename(name, newName, options); err != nil {
		return err
	}
	s.m.folderEvent(s.user, name, newName)
	return nil
}

func (s *specialSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return s.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}

func (s *specialSession) Namespace() (*imap.NamespaceData, error) {
	return s.Session.(imapserver.SessionNamespace).Namespace()
}

// List answers as imapmemserver does, with the special-use attributes added, when the
// user has folders that carry some; otherwise it leaves LIST to imapmemserver.
func (s *specialSession) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	names, special := s.m.folders(s.user)
	if len(special) == 0 || len(patterns) == 0 || options.SelectSubscribed {
		return s.Session.List(w, ref, patterns, options)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.ContainsFunc(patterns, func(p string) bool { return imapserver.MatchList(name, memDelim, ref, p) }) {
			continue
		}
		if _, err := s.Session.Status(name, &imap.StatusOptions{UIDValidity: true}); err != nil {
			continue // deleted since
		}
		attrs := special[name]
		if options.SelectSpecialUse && len(attrs) == 0 {
			continue
		}
		data := &imap.ListData{Mailbox: name, Delim: memDelim, Attrs: slices.Clone(attrs)}
		if options.ReturnStatus != nil {
			st, err := s.Session.Status(name, options.ReturnStatus)
			if err != nil {
				return err
			}
			data.Status = st
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// folders returns the names the user's folders may have (each checked with STATUS
// before it is listed) and the special-use attributes by folder.
func (m *Memory) folders(user string) ([]string, map[string][]imap.MailboxAttr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.users[user]
	if u == nil {
		return nil, nil
	}
	names := make([]string, 0, len(u.names))
	for n := range u.names {
		names = append(names, n)
	}
	special := make(map[string][]imap.MailboxAttr, len(u.special))
	for n, a := range u.special {
		special[n] = a
	}
	return names, special
}

// folderEvent notes a folder created (from "") or renamed over IMAP.
func (m *Memory) folderEvent(user, from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.users[user]
	if u == nil {
		return
	}
	u.names[to] = true
	if a, ok := u.special[from]; ok && from != "" {
		delete(u.special, from)
		u.special[to] = a
	}
}
