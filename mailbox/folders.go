package mailbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// A folder entry (WatchOptions.Folders, MarkFolders) is either a folder's name, used as
// written, or a special-use attribute of RFC 6154 written with its backslash ("\Junk"):
// the folder the server marks with that attribute, whatever it is called in the
// provider's and the account's language ("[Gmail]/Spam", "Junk Email", "Junk-E-Mail",
// "Courrier indésirable"). Only the attributes of folders a reply can land in are
// accepted: \Junk, \Archive and \Trash.
var watchableAttrs = []imap.MailboxAttr{imap.MailboxAttrJunk, imap.MailboxAttrArchive, imap.MailboxAttrTrash}

// fallbackNames are the names looked for, in order, when the server marks no folder with
// the attribute (no SPECIAL-USE, or none configured for it).
var fallbackNames = map[imap.MailboxAttr][]string{
	imap.MailboxAttrJunk:    {"Junk", "Spam"},
	imap.MailboxAttrArchive: {"Archive"},
	imap.MailboxAttrTrash:   {"Trash"},
}

// SpecialUseEntry reports whether the folder entry names a special-use attribute
// rather than a folder, and returns the attribute in its canonical spelling ("\junk"
// gives imap.MailboxAttrJunk). ok is false for a folder name, and err is set for an
// entry that starts with a backslash but is not an attribute a Watcher accepts.
func SpecialUseEntry(entry string) (attr imap.MailboxAttr, ok bool, err error) {
	if !strings.HasPrefix(entry, `\`) {
		return "", false, nil
	}
	for _, a := range watchableAttrs {
		if strings.EqualFold(entry, string(a)) {
			return a, true, nil
		}
	}
	switch strings.ToLower(entry) {
	case `\sent`, `\drafts`, `\all`, `\flagged`:
		return "", false, fmt.Errorf("%s holds our own or duplicated mail, not replies; watch \\Junk, \\Archive or \\Trash, or name a folder", entry)
	}
	return "", false, fmt.Errorf("%q is not a special-use attribute a watcher accepts (\\Junk, \\Archive, \\Trash); name a folder without a leading backslash", entry)
}

// How a WatchedFolder was chosen.
const (
	// ChosenByName: the entry is the folder's name.
	ChosenByName = "by name"
	// ChosenBySpecialUse: the server marks the folder with the entry's attribute.
	ChosenBySpecialUse = "SPECIAL-USE"
	// ChosenByFallback: the server marks no folder with the attribute, and the folder
	// has the usual name for it ("Junk", "Spam").
	ChosenByFallback = "no folder marked; found by its usual name"
	// ChosenNone: the server marks no folder with the attribute and has none of the
	// usual names; the entry is looked for again later.
	ChosenNone = "no folder marked, none of the usual names"
)

// WatchedFolder is a folder entry resolved on the server.
type WatchedFolder struct {
	// Entry is the entry as configured: a folder name, or an attribute such as \Junk.
	Entry string
	// Name is the folder's name on the server; "" when an attribute found no folder.
	Name string
	// Chosen says how: ChosenByName, ChosenBySpecialUse, ChosenByFallback or ChosenNone.
	Chosen string
}

// Discovered reports whether the entry is an attribute, whose folder may be another one
// at the next connection.
func (f WatchedFolder) Discovered() bool { return f.Chosen != ChosenByName }

// String describes the folder for people: "INBOX (by name)", `Junk Email (\Junk,
// SPECIAL-USE)`, `Junk (\Junk: no folder marked; found by its usual name)`, or `\Junk:
// no folder marked, none of the usual names (Junk, Spam)`.
func (f WatchedFolder) String() string {
	switch f.Chosen {
	case ChosenByName:
		return f.Name + " (by name)"
	case ChosenBySpecialUse:
		return fmt.Sprintf("%s (%s, SPECIAL-USE)", f.Name, f.Entry)
	case ChosenByFallback:
		return fmt.Sprintf("%s (%s: %s)", f.Name, f.Entry, f.Chosen)
	}
	attr, _, _ := SpecialUseEntry(f.Entry)
	return fmt.Sprintf("%s: %s (%s)", f.Entry, f.Chosen, strings.Join(fallbackNames[attr], ", "))
}

// listFn runs LIST "" * on a connection (with RETURN (SPECIAL-USE) when the server has
// it) under the caller's watchdog.
type listFn func(opts *imap.ListOptions) ([]*imap.ListData, error)

// resolveFolders turns folder entries into folders: names as they are, attributes by a
// LIST that asks for special-use attributes. It lists only when an entry needs it. A
// folder found for an attribute that is already watched under its name is left out.
// Entries that name no folder keep Name "" (ChosenNone).
func resolveFolders(caps imap.CapSet, list listFn, entries []string) ([]WatchedFolder, error) {
	var (
		out   []WatchedFolder
		boxes []*imap.ListData
		lst   bool
	)
	for _, e := range entries {
		attr, special, err := SpecialUseEntry(e)
		if err != nil {
			return nil, fmt.Errorf("folder %s: %w", e, err)
		}
		if !special {
			out = append(out, WatchedFolder{Entry: e, Name: e, Chosen: ChosenByName})
			continue
		}
		if !lst {
			var opts *imap.ListOptions
			if caps.Has(imap.CapSpecialUse) {
				opts = &imap.ListOptions{ReturnSpecialUse: true}
			}
			if boxes, err = list(opts); err != nil {
				return nil, fmt.Errorf("LIST \"\" * to find the %s folder: %w", attr, err)
			}
			lst = true
		}
		out = append(out, pickFolder(e, attr, boxes))
	}
	// An attribute that found a folder already watched by name adds nothing.
	var kept []WatchedFolder
	for _, f := range out {
		if f.Discovered() && f.Name != "" && slices.ContainsFunc(kept, func(k WatchedFolder) bool { return sameFolder(k.Name, f.Name) }) {
			continue
		}
		kept = append(kept, f)
	}
	return kept, nil
}

// pickFolder chooses the folder for attr among boxes: the first the server marks with
// it, else the first with one of its usual names, at the top level or under INBOX.
func pickFolder(entry string, attr imap.MailboxAttr, boxes []*imap.ListData) WatchedFolder {
	for _, b := range boxes {
		if slices.Contains(b.Attrs, attr) && !slices.Contains(b.Attrs, imap.MailboxAttrNoSelect) {
			return WatchedFolder{Entry: entry, Name: b.Mailbox, Chosen: ChosenBySpecialUse}
		}
	}
	for _, want := range fallbackNames[attr] {
		for _, b := range boxes {
			name := b.Mailbox
			if b.Delim != 0 {
				name = strings.TrimPrefix(strings.TrimPrefix(name, "INBOX"), string(b.Delim))
			}
			if strings.EqualFold(name, want) && !slices.Contains(b.Attrs, imap.MailboxAttrNoSelect) {
				return WatchedFolder{Entry: entry, Name: b.Mailbox, Chosen: ChosenByFallback}
			}
		}
	}
	return WatchedFolder{Entry: entry, Chosen: ChosenNone}
}

// sameFolder compares folder names as IMAP does: exactly, except INBOX in any case.
func sameFolder(a, b string) bool {
	return a == b || strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX")
}

// ResolveFoldersOn returns what each folder entry (see SpecialUseEntry) names on the
// server of the logged-in connection c: a name as it is, an attribute by one LIST that
// asks for special-use attributes, sent only when an entry needs it. An attribute whose
// folder is also named in entries adds nothing. ctx and timeout bound the LIST; an entry
// that is no watchable attribute is an error.
func ResolveFoldersOn(ctx context.Context, c *imapclient.Client, timeout time.Duration, entries []string) ([]WatchedFolder, error) {
	return resolveFolders(c.Caps(), func(opts *imap.ListOptions) ([]*imap.ListData, error) {
		stop := Watchdog(ctx, timeout, c)
		list, err := c.List("", "*", opts).Collect()
		return list, stop(err)
	}, entries)
}
