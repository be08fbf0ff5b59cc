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

// maxDeadline is the longest deadline of any vendor: no probe older than that can still
// be waiting for an answer.
func (d *Daemon) maxDeadline() time.Duration {
	longest := 7 * 24 * time.Hour
	for _, v := range d.cfg.Vendors {
		longest = max(longest, v.Deadline)
	}
	return longest
}

// watchSince is how far back a first sync looks: to the oldest probe still waiting for
// an answer, or now when none waits.
func (d *Daemon) watchSince() time.Time {
	now := d.opts.Now()
	t, ok, err := d.db.OldestOpen(now, d.maxDeadline())
	if err != nil {
		d.log.Warn("cannot find the oldest open probe; first sync starts from now", "err", err)
	}
	if !ok || err != nil {
		return now
	}
	return t
}

// newWatcher builds the inbox watcher from the configuration.
func (d *Daemon) newWatcher() (*mailbox.Watcher, error) {
	srv, err := MailServer("imap", d.cfg.Mail.IMAP.Server)
	if err != nil {
		return nil, err
	}
	return mailbox.NewWatcher(srv, positions{d.db}, d.handleMail, mailbox.WatchOptions{
		Folders: d.cfg.Mail.IMAP.Folders,
		Since:   d.watchSince,
		Now:     d.opts.Now,
		Logger:  d.log,
	}), nil
}

// handleMail records one fetched message: parsed, matched to its probe by the ladder,
// classified, and stored as a reply with its raw bytes, or kept as unmatched for review.
// A message already recorded (the same mail in two folders, or seen again after a
// restart) is skipped. Only a store failure is returned, so the watcher retries the
// message at its next sync.
func (d *Daemon) handleMail(_ context.Context, f mailbox.Fetched) error {
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
		if _, _, ours := probe.VerifyMessageID(d.key, m.MessageID); ours {
			log.Debug("our own inquiry; not a reply", "message_id", m.MessageID)
			return nil
		}
	}
	if perr != nil {
		u, err := d.db.AddUnmatched(store.Unmatched{MessageID: m.MessageID, Folder: f.Folder, UID: f.UID,
			ReceivedAt: f.InternalDate, DetectedAt: f.DetectedAt, Kind: probe.KindOther,
			Reason: "unparsable: " + perr.Error(), Why: "could not be parsed"}, f.Raw)
		if errors.Is(err, store.ErrDuplicate) {
			return nil
		}
		log.Warn("unparsable mail kept as unmatched", "id", u.ID, "err", perr)
		return err
	}

	matcher := probe.Matcher{Key: d.key, Mailbox: d.cfg.Mail.From.Address, Vendors: d.cfg.Vendors, Index: d.db}
	match, ok, err := matcher.Match(m)
	if err != nil {
		return fmt.Errorf("match mail %s: %w", m.MessageID, err)
	}
	vendor, ourSubject := match.Vendor, ""
	if ok {
		if p, err := d.db.Probe(match.ProbeID); err == nil {
			vendor, ourSubject = p.Vendor, p.Subject
		}
	}
	cls := probe.Classify(m, d.rules[vendor])
	from := (&mail.Address{Name: m.FromName, Address: m.From}).String()

	if !ok {
		u, err := d.db.AddUnmatched(store.Unmatched{MessageID: m.MessageID, Folder: f.Folder, UID: f.UID,
			ReceivedAt: f.InternalDate, DetectedAt: f.DetectedAt, HeaderDate: m.HeaderDate, From: from,
			Subject: m.Subject, Kind: cls.Kind, Reason: cls.Reason, Why: match.Detail}, f.Raw)
		if errors.Is(err, store.ErrDuplicate) {
			return nil
		}
		if err == nil {
			log.Info("unmatched mail kept for review", "id", u.ID, "from", m.From, "subject", m.Subject, "why", match.Detail)
		}
		return err
	}
	r, err := d.db.AddReply(probe.Reply{ProbeID: match.ProbeID, MessageID: m.MessageID, Folder: f.Folder, UID: f.UID,
		ReceivedAt: f.InternalDate, HeaderDate: m.HeaderDate, DetectedAt: f.DetectedAt, From: from, Subject: m.Subject,
		Kind: cls.Kind, Reason: cls.Reason, MatchedBy: match.Rung, MatchDetail: match.Detail,
		Language: probe.DetectLanguage(m.NewText)}, f.Raw)
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	if err != nil {
		return err
	}
	d.countReply(vendor, r)
	if conflicts, err := d.db.AddThreadIDs(match.ProbeID, match.ThreadIDs...); err != nil {
		return err
	} else if len(conflicts) > 0 {
		log.Warn("message IDs already belong to another probe's thread", "probe", match.ProbeID, "ids", conflicts)
	}
	for _, k := range match.TicketKeys {
		// A key-shaped string from our own subject ("ERP-2") quoted back is not the
		// vendor's ticket: learning it would tie later, unrelated mail to this probe.
		if strings.Contains(ourSubject, k) {
			continue
		}
		if _, err := d.db.AddTicketKey(vendor, k, match.ProbeID); err != nil {
			return err
		}
	}
	log.Info("reply recorded", "vendor", vendor, "probe", match.ProbeID, "reply", r.ID, "kind", r.Kind,
		"matched_by", r.MatchedBy, "reason", r.Reason)
	return nil
}
