package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/store"
)

// positions adapts the store's per-folder sync positions to the watcher.
type positions struct{ db *store.DB }

func (p positions) Position(folder string) (mailbox.Position, bool, error) {
	s, ok, err := p.db.Mailbox(folder)
	return mailbox.Position{UIDValidity: s.UIDValidity, LastUID: s.LastUID}, ok, err
}

func (p positions) SetPosition(folder string, pos mailbox.Position) error {
	return p.db.SetMailbox(folder, store.MailboxState{UIDValidity: pos.UIDValidity, LastUID: pos.LastUID})
}

// DiscoveredFolder implements mailbox.DiscoveredFolders: the folder entry named last.
func (p positions) DiscoveredFolder(entry string) (string, bool, error) {
	return p.db.FolderRole(entry)
}

// SetDiscoveredFolder implements mailbox.DiscoveredFolders.
func (p positions) SetDiscoveredFolder(entry, folder string) error {
	return p.db.SetFolderRole(entry, folder)
}

var _ mailbox.DiscoveredFolders = positions{}

// Mark is the watcher's WatchOptions.Mark: the latest mark of folder taken at or before
// since (markFolders takes them before each send).
func (p positions) Mark(folder string, since time.Time) (mailbox.Mark, bool, error) {
	m, ok, err := p.db.FolderMark(folder, since)
	return mailbox.Mark{Folder: folder, UIDValidity: m.UIDValidity, UIDNext: m.UIDNext, At: m.At}, ok, err
}

// maxDeadline is the longest deadline of any vendor: no probe older than that can still
// be waiting for an answer.
func (d *Daemon) maxDeadline() time.Duration {
	longest := 7 * 24 * time.Hour
	for _, v := range d.config().Vendors {
		longest = max(longest, v.Deadline)
	}
	return longest
}

// watchSince is how far back a first sync looks: to the oldest probe sent within the
// longest deadline, answered or not, or now when there is none. Mail for an answered
// probe still counts (the answer to a follow-up, a second reply), and so does a late
// reply; and a first sync also follows a UIDVALIDITY change, when the recreated folder
// may hold mail that arrived since it was last read: starting from the oldest probe
// still waiting would skip all of that. Mail read again is recorded once (by Message-ID).
func (d *Daemon) watchSince() time.Time {
	now := d.opts.Now()
	ps, err := d.db.Probes(store.Filter{Since: now.Add(-d.maxDeadline())})
	if err != nil {
		d.log.Warn("cannot list recent probes; first sync starts from now", "err", err)
		return now
	}
	oldest := now
	for _, p := range ps {
		mayHaveGone := !p.SentAt.IsZero() || p.State == probe.StateSending || p.State == probe.StateUnknown
		if mayHaveGone && p.CreatedAt.Before(oldest) {
			oldest = p.CreatedAt
		}
	}
	return oldest
}

// newWatcher builds the inbox watcher from the configuration.
func (d *Daemon) newWatcher() (*mailbox.Watcher, error) {
	srv, err := d.mailServer("imap", d.config().Mail.IMAP.Server)
	if err != nil {
		return nil, err
	}
	return mailbox.NewWatcher(srv, positions{d.db}, d.handleMail, mailbox.WatchOptions{
		Folders: d.config().Mail.IMAP.Folders,
		Since:   d.watchSince,
		Mark:    positions{d.db}.Mark,
		Now:     d.opts.Now,
		Logger:  d.log,
		// watcher_down is judged over time from the first moment of disconnection,
		// watcher_up from the first sync after it: each change wakes the alert loop.
		OnDisconnect:    d.wakeAlerts,
		OnConnectSynced: d.wakeAlerts,
	}), nil
}

// handleMail records one fetched message: parsed, matched to its probe by the ladder,
// classified, and stored as a reply with its raw bytes, or kept as unmatched for review.
// A message already recorded (the same mail in two folders, or seen again after a
// restart) is skipped. Only a store failure is returned, so the watcher retries the
// message at its next sync.
func (d *Daemon) handleMail(ctx context.Context, f mailbox.Fetched) error {
	log := d.log.With("folder", f.Folder, "uid", f.UID)
	m, perr := mailbox.Parse(f.Raw, mailbox.ParseOptions{})
	m.ReceivedAt = f.InternalDate
	m.Truncated = m.Truncated || f.Truncated
	if f.Size > 0 {
		m.Size = int(f.Size)
	}
	if m.MessageID != "" {
		if id, seen, err := d.db.Seen(m.MessageID); err != nil {
			return err
		} else if seen {
			log.Debug("mail already recorded", "message_id", m.MessageID, "as", id)
			return nil
		}
		if p, err := d.db.ProbeByMessageID(m.MessageID); err != nil {
			return err
		} else if p != "" && probe.IsOurMessageID(d.key, m.MessageID, p) {
			log.Debug("our own inquiry; not a reply", "message_id", m.MessageID, "probe", p)
			return nil
		}
	}
	// What was not read (a message over the watcher's MaxSize, text over Parse's cap, MIME
	// nested too deep) goes beside every decision, so a person sees why a kind or a
	// match may rest on part of the message.
	unread := unreadNote(f, m)
	if perr != nil {
		u, err := d.db.AddUnmatchedRaw(store.Unmatched{MessageID: m.MessageID, Folder: f.Folder, UID: f.UID,
			ReceivedAt: f.InternalDate, DetectedAt: f.DetectedAt, Kind: probe.KindOther,
			Reason: withNote("unparsable: "+perr.Error(), unread), Why: withNote("could not be parsed", unread)}, fetchedRaw(f))
		if errors.Is(err, store.ErrDuplicate) {
			return nil
		}
		if err == nil {
			d.pageGen.Add(1)
		}
		log.Warn("unparsable mail kept as unmatched", "id", u.ID, "err", perr)
		return err
	}

	cfg := d.config() // one configuration for the whole message, even across a reload
	matcher := probe.Matcher{Key: d.key, Mailbox: cfg.Mail.From.Address, Vendors: cfg.Vendors, Index: d.db, Sent: d.db.ProbeSent}
	match, ok, err := matcher.Match(m)
	if err != nil {
		return fmt.Errorf("match mail %s: %w", m.MessageID, err)
	}
	vendor, state := match.Vendor, probe.State("")
	var sentFollowups []int
	if ok {
		if p, err := d.db.Probe(match.ProbeID); err == nil {
			vendor, state = p.Vendor, p.State
			for _, f := range p.Followups {
				if !f.SentAt.IsZero() {
					sentFollowups = append(sentFollowups, f.Index)
				}
			}
		}
	}
	var rules []probe.Rule
	if v, ok := cfg.Vendor(vendor); ok {
		rules = v.Rules
	}
	if ok {
		m.Inquiry = d.inquiryText(match.ProbeID, sentFollowups)
	}
	cls := probe.Classify(m, rules)
	cls.Reason = withNote(cls.Reason, unread)
	from := (&mail.Address{Name: m.FromName, Address: m.From}).String()

	if !ok {
		u, err := d.db.AddUnmatchedRaw(store.Unmatched{MessageID: m.MessageID, Folder: f.Folder, UID: f.UID,
			ReceivedAt: f.InternalDate, DetectedAt: f.DetectedAt, HeaderDate: m.HeaderDate, From: from,
			Subject: m.Subject, Kind: cls.Kind, Reason: cls.Reason, Why: withNote(match.Detail, unread),
			Vendor: match.Vendor, ThreadIDs: match.ThreadIDs, TicketKeys: match.TicketKeys}, fetchedRaw(f))
		if errors.Is(err, store.ErrDuplicate) {
			return nil
		}
		if err == nil {
			log.Info("unmatched mail kept for review", "id", u.ID, "from", m.From, "subject", m.Subject, "why", match.Detail)
			d.pageGen.Add(1)
			d.wakeAlerts() // arms the timer for its review wait
		}
		return err
	}
	r, err := d.db.AddReplyRaw(probe.Reply{ProbeID: match.ProbeID, MessageID: m.MessageID, Folder: f.Folder, UID: f.UID,
		ReceivedAt: f.InternalDate, HeaderDate: m.HeaderDate, DetectedAt: f.DetectedAt, From: from, Subject: m.Subject,
		Kind: cls.Kind, Reason: cls.Reason, Confidence: cls.Confidence, MatchedBy: match.Rung, MatchDetail: match.Detail,
		Language: probe.DetectLanguage(m.NewText)}, fetchedRaw(f))
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	if err != nil {
		return err
	}
	d.wakeFollowups()
	d.countReply(vendor, r)
	// Recorded first, checked now: keys are rotated, so a signature is worth most the
	// day it arrives; a lookup that fails temporarily is retried by retryDKIM.
	d.checkReplyAuth(ctx, r, vendor, f.Raw, f.Truncated, 1)
	if state == probe.StateUnknown && probe.ProvesSent(r.MatchedBy) {
		// The reply proves the inquiry went out. A crash before this leaves the
		// promotion to the next start (promoteProven).
		if _, err := d.promote(r); err != nil {
			return err
		}
	}
	// What the reply teaches is recorded on it, so a manual link can move it. Ticket
	// keys quoted from our own subject are left out there.
	if conflicts, err := d.db.LearnFromReply(r.ID, vendor, match.ThreadIDs, match.TicketKeys); err != nil {
		return err
	} else if len(conflicts) > 0 {
		log.Warn("message IDs or ticket keys already belong to another probe", "probe", match.ProbeID, "conflicts", conflicts)
	}
	log.Info("reply recorded", "vendor", vendor, "probe", match.ProbeID, "reply", r.ID, "kind", r.Kind,
		"confidence", r.Confidence, "matched_by", r.MatchedBy, "reason", r.Reason)
	return nil
}

// unreadNote says what of the message the decisions could not see: the part the watcher
// did not fetch ("too large: cut at 1 MiB of 20.53 MiB"; the watcher runs with the
// default MaxSize), or the server did not send, and what Parse left unread; "" when
// they saw all of it.
func unreadNote(f mailbox.Fetched, m probe.Mail) string {
	var notes []string
	switch {
	case f.Truncated && len(f.Raw) >= mailbox.DefaultWatchMaxSize:
		notes = append(notes, fmt.Sprintf("too large: cut at %s of %s", sizeText(int64(len(f.Raw))), sizeText(f.Size)))
	case f.Truncated:
		// Below our limit: the server sent less than the size it reported (imapmemserver
		// sends nothing for a header go-message cannot read).
		notes = append(notes, fmt.Sprintf("incomplete: the server returned %s of %s", sizeText(int64(len(f.Raw))), sizeText(f.Size)))
	}
	if m.Unread != "" {
		notes = append(notes, m.Unread)
	}
	return strings.Join(notes, "; ")
}

// withNote appends note to s, when there is one.
func withNote(s, note string) string {
	switch {
	case note == "":
		return s
	case s == "":
		return note
	}
	return s + "; " + note
}

// sizeText writes a byte count for people: "900 B", "12 KiB", "1 MiB", "20.5 MiB".
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.4g KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.4g MiB", float64(n)/(1<<20))
}

// fetchedRaw is the raw copy to keep of f: the bytes fetched, and whether and from what
// size the watcher cut them, so the evidence says a copy is incomplete.
func fetchedRaw(f mailbox.Fetched) store.Raw {
	return store.Raw{Data: f.Raw, Size: max(int(f.Size), len(f.Raw)), Truncated: f.Truncated}
}

// inquiryText returns the text of probe id's inquiry as sent, and of its follow-ups at
// the positions in followups, for the classifier to recognise a help desk's copy of
// them (a notice that pastes our reminder is no more the desk's words than one that
// pastes the inquiry); followups are the script positions (Followup.Index) of the
// follow-ups sent. A copy that cannot be read is left out with a debug line: that
// only costs its recognition.
func (d *Daemon) inquiryText(id string, followups []int) string {
	ids := []string{id}
	for _, i := range followups {
		ids = append(ids, followupRawID(id, i))
	}
	var texts []string
	for _, rid := range ids {
		raw, err := d.db.InquiryRaw(rid)
		if err != nil {
			d.log.Debug("copy of our message not read; its echo in the reply is not recognised", "probe", id, "copy", rid, "err", err)
			continue
		}
		m, err := mailbox.Parse(raw.Data, mailbox.ParseOptions{})
		if err != nil {
			d.log.Debug("copy of our message not parsed; its echo in the reply is not recognised", "probe", id, "copy", rid, "err", err)
			continue
		}
		texts = append(texts, m.NewText)
	}
	return strings.Join(texts, "\n\n")
}
