package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"sync"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/schedule"
	"supportprobe/store"
)

// errFollowupRecorded means another pass recorded the follow-up first.
var errFollowupRecorded = errors.New("follow-up already recorded")

// errFollowupNotDue means the follow-up was no longer due when its send was to be
// recorded: a reply recorded since the decision (a person's answer, or one waiting for
// review) took it back.
var errFollowupNotDue = errors.New("follow-up no longer due")

// errFollowupRetry means a follow-up was neither sent nor recorded because a check
// failed (the vendor's limits could not be read): a later pass tries again.
var errFollowupRetry = errors.New("follow-up check failed; will retry")

// Waiting for the inbox before a reminder: how long a pass waits for the watcher to
// read the mail that arrived before the reminder was decided, and how soon a reminder
// deferred because it did not is looked at again.
const (
	defaultInboxSyncWait = 30 * time.Second
	reminderRetry        = time.Minute
)

// inboxSync is what the follow-ups need of the inbox watcher (a *mailbox.Watcher).
type inboxSync interface {
	State() mailbox.WatchState
	SyncNow()
}

// inbox returns the watcher whose syncs reminders wait for, or nil when the daemon runs
// none (no IMAP server configured, or Run not started): then it cannot know what mail
// is waiting, and decides on the replies recorded.
func (d *Daemon) inbox() inboxSync {
	if d.inboxOverride != nil {
		return d.inboxOverride
	}
	if w := d.watcher.Load(); w != nil {
		return w
	}
	return nil
}

// inboxCaughtUp reports whether the inbox watcher has read every message that was in
// its folders at decided: a complete sync that began at or after decided. If none has,
// it asks for one and waits for it up to d.inboxWait. With no watcher it reports true.
func (d *Daemon) inboxCaughtUp(ctx context.Context, decided time.Time) bool {
	in := d.inbox()
	if in == nil {
		return true
	}
	caughtUp := func() bool { return !in.State().LastSyncStarted.Before(decided) }
	if caughtUp() {
		return true
	}
	in.SyncNow()
	giveUp := time.NewTimer(d.inboxWait)
	defer giveUp.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-giveUp.C:
			return caughtUp()
		case <-tick.C:
			if caughtUp() {
				return true
			}
		}
	}
}

// followupSpecs returns p's follow-ups in order: the ones stored with it when it was
// created (Terms.Script), so that a later change of the configuration does not change
// them. A probe created before follow-up terms were stored (Terms.Script nil) keeps the
// behaviour it was created under: its follow-ups are the current configuration's
// script's, none when the script is gone.
func (d *Daemon) followupSpecs(p probe.Probe) ([]probe.FollowupSpec, error) {
	if t := p.Terms.Script; t != nil {
		if len(t.Followups) == 0 {
			return nil, nil
		}
		return t.Specs()
	}
	s, ok := d.config().Script(p.Script)
	if !ok {
		return nil, nil
	}
	return s.Followups, nil
}

// followupLimiter vets follow-ups against the vendors' max_per_day and max_per_week.
// min_spacing is left out: it keeps separate inquiries apart, and a follow-up, sent in
// the inquiry's own thread minutes after it was answered, would always fall foul of it.
// The limiter counts probes, so a follow-up is held back when the vendor already got its
// day's or week's quota of probes.
func (d *Daemon) followupLimiter() schedule.Limiter {
	limits := map[string]schedule.VendorLimits{}
	for _, v := range d.config().Vendors {
		l := v.Limits
		l.MinSpacing = 0
		limits[v.Name] = schedule.VendorLimits{Limits: l, Location: v.Hours.Location()}
	}
	return schedule.NewLimiter(limits, d.db)
}

// runFollowups sends due follow-ups at once, then whenever the earliest follow-up known
// to come falls due, when something happened that can make one due (wakeFollowups: an
// inquiry sent, a reply recorded, linked or re-marked), and at the latest every interval,
// until ctx ends. In between it sleeps: a pass reads every probe within the longest
// deadline, and an idle daemon should wake only for its schedules and its mail. The
// interval's passes fall on the safety-net grid (untilGrid) that the alert checks share,
// and a pass there is skipped when it has nothing to find (followupLook.settled). It calls
// first, if not nil, after the first pass.
func (d *Daemon) runFollowups(ctx context.Context, interval time.Duration, first func()) {
	t := time.NewTimer(interval)
	defer t.Stop()
	var last followupLook
	woken := true // the first pass runs whatever the state
	for {
		if woken || !last.settled(d) {
			// Built for each pass: a reload may have changed the vendors' limits.
			last = followupLook{gen: d.db.RecordsGeneration(), conf: d.config()} // before the read
			out, err := d.followupScan(ctx, d.followupLimiter())
			if err != nil && ctx.Err() == nil {
				d.log.Error("follow-up pass", "err", err)
			}
			last.out, last.ok = out, err == nil
		}
		if first != nil {
			first()
			first = nil
		}
		wait := untilGrid(d.opts.Now(), interval)
		if next := last.out.next; !next.IsZero() {
			// A second's slack, so a pass never runs a hair before its follow-up is due.
			wait = min(wait, max(next.Sub(d.opts.Now()), 0)+time.Second)
		}
		t.Reset(wait)
		woken = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.followupWake.c():
			// Reset needs no drain: since Go 1.23 it discards a stale fire.
			woken = true
		}
	}
}

// followupLook is what the follow-up loop knows of its last pass.
type followupLook struct {
	ok   bool   // the pass read every probe without a store error
	gen  uint64 // store.RecordsGeneration before the pass
	conf *configs.Config
	out  followupOutcome
}

// settled reports whether a pass now would find what the last one found: it
// completed, no probe or reply record was written since and the configuration is the
// same (so only time moved), no follow-up it knew of has fallen due, and no check of it
// is to be retried. Then the safety net's pass is skipped: it would decode every probe
// of the longest deadline to learn nothing.
func (l followupLook) settled(d *Daemon) bool {
	now := d.opts.Now()
	come := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	return l.ok && !l.out.retry && l.gen == d.db.RecordsGeneration() && l.conf == d.config() &&
		!come(l.out.next) && !come(l.out.revisit)
}

// wake is a signal that never blocks its sender and keeps at most one pending wake-up
// for its receiver. The zero value is ready to use.
type wake struct {
	once sync.Once
	ch   chan struct{}
}

func (w *wake) c() chan struct{} {
	w.once.Do(func() { w.ch = make(chan struct{}, 1) })
	return w.ch
}

func (w *wake) signal() {
	select {
	case w.c() <- struct{}{}:
	default:
	}
}

// wakeFollowups makes the follow-up loop look again now: something happened (an
// inquiry sent, a reply recorded, linked or re-marked) that can make a follow-up due
// sooner than the one it sleeps until. Each of those can raise an alert too (a bounce,
// a breach decided by a late answer, a reply to review, a new target to watch), so it
// wakes the alert loop as well.
func (d *Daemon) wakeFollowups() {
	d.followupWake.signal()
	d.wakeAlerts()
}

// followupPass sends every follow-up due now among the probes still within the longest
// deadline. A store error stops the pass; a send error is recorded on the follow-up.
func (d *Daemon) followupPass(ctx context.Context, lim schedule.Limiter) error {
	_, err := d.followupRound(ctx, lim)
	return err
}

// followupRound is followupPass, and also returns when the earliest follow-up not yet
// due will be (zero when none is known: an after_response follow-up waits for a reply,
// which wakes the loop).
func (d *Daemon) followupRound(ctx context.Context, lim schedule.Limiter) (next time.Time, err error) {
	out, err := d.followupScan(ctx, lim)
	return out.next, err
}

// followupOutcome is what a follow-up pass tells the loop about the passes to come.
type followupOutcome struct {
	// next is when the earliest follow-up not yet due will be: the loop's timer.
	next time.Time
	// revisit is when the earliest follow-up that falls due after its probe's deadline
	// will (zero if none): no timer is armed for it, but from then on a pass records
	// it as skipped.
	revisit time.Time
	// retry: a check failed (a vendor's limits could not be read), to be tried again.
	retry bool
}

// followupScan is followupRound, returning the whole outcome.
//
// A reminder is decided on the replies recorded, so before one goes out the pass makes
// sure the inbox watcher has read the mail that arrived before the pass began (see
// inboxCaughtUp), then decides again on the probe as stored after that; a watcher that
// cannot catch up (disconnected, or slow) defers the reminder by reminderRetry rather
// than let it go out blind. sendFollowup decides a last time inside the transaction
// that records the send.
func (d *Daemon) followupScan(ctx context.Context, lim schedule.Limiter) (out followupOutcome, err error) {
	now := d.opts.Now()
	d.followupScans.Add(1)
	ps, err := d.db.Probes(store.Filter{Since: now.Add(-d.maxDeadline())})
	if err != nil {
		return out, err
	}
	later := func(at time.Time) { out.next = earliest(out.next, at) }
	inboxChecked, inboxReady := false, false
	for _, p := range ps {
		if ctx.Err() != nil {
			return out, nil
		}
		if p.State != probe.StateSent {
			continue
		}
		specs, err := d.followupSpecs(p)
		if err != nil {
			d.log.Error("cannot read the follow-ups stored with the probe; none will be sent for it (see `supportprobe show`)",
				"vendor", p.Vendor, "probe", p.ID, "err", err)
			continue
		}
		if len(specs) == 0 {
			continue
		}
		v, ok := d.config().Vendor(p.Vendor)
		if !ok {
			continue
		}
		for i, spec := range specs {
			dueAt, due := probe.FollowupDue(p, i, spec, d.opts.Now())
			if !due {
				if !dueAt.IsZero() {
					if !p.PastDeadline(dueAt) {
						later(dueAt)
					} else {
						out.revisit = earliest(out.revisit, dueAt)
					}
				}
				continue
			}
			if spec.Kind == probe.FollowupReminder && !p.PastDeadline(d.opts.Now()) {
				if !inboxChecked {
					inboxChecked, inboxReady = true, d.inboxCaughtUp(ctx, now)
				}
				log := d.log.With("vendor", v.Name, "probe", p.ID, "followup", i, "kind", spec.Kind)
				if !inboxReady {
					if ctx.Err() == nil {
						log.Warn("reminder deferred: the inbox watcher has not read the mail that arrived before it fell due",
							"retry_in", reminderRetry)
					}
					later(d.opts.Now().Add(reminderRetry))
					continue
				}
				// The sync may have recorded a reply since ps was read.
				if p, err = d.db.Probe(p.ID); err != nil {
					return out, err
				}
				if _, due = probe.FollowupDue(p, i, spec, d.opts.Now()); !due {
					log.Info("reminder not sent: a reply read just before it went out took it back")
					continue
				}
			}
			if p, err = d.sendFollowup(ctx, lim, p, v, i, spec, dueAt); errors.Is(err, errFollowupRetry) {
				out.retry = true
			} else if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// sendFollowup records, vets and sends p's i-th follow-up, and returns p as stored
// after. The follow-up is written as sending with its Message-ID before SMTP, exactly
// once (a second writer gets errFollowupRecorded and sends nothing), and as sent after
// the server's 250. Whether it is still due is decided again inside the transaction
// that writes it, against every reply recorded by then: a reply recorded since the
// caller's decision (errFollowupNotDue) means nothing is recorded or sent. Past the
// deadline, or over a vendor limit, it is recorded as skipped and never retried. A
// store error is returned, or errFollowupRetry (with p unchanged) when the vendor's
// limits could not be checked.
func (d *Daemon) sendFollowup(ctx context.Context, lim schedule.Limiter, p probe.Probe, v probe.Vendor, i int, spec probe.FollowupSpec, dueAt time.Time) (probe.Probe, error) {
	log := d.log.With("vendor", v.Name, "probe", p.ID, "followup", i, "kind", spec.Kind)
	now := d.opts.Now()
	f := probe.Followup{Index: i, Kind: spec.Kind, DueAt: dueAt.UTC()}
	record := func(f probe.Followup) (probe.Probe, error) {
		q, err := d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
			for _, g := range p.Followups {
				if g.Index == f.Index {
					return errFollowupRecorded
				}
			}
			if _, due := probe.FollowupDue(*p, i, spec, now); !due {
				return errFollowupNotDue
			}
			p.Followups = append(p.Followups, f)
			return nil
		})
		if errors.Is(err, errFollowupNotDue) {
			log.Info("follow-up not sent: a reply recorded since it was decided took it back")
		}
		return q, err
	}
	update := func(fn func(*probe.Followup)) (probe.Probe, error) {
		return d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
			for k := range p.Followups {
				if p.Followups[k].Index == i {
					fn(&p.Followups[k])
				}
			}
			return nil
		})
	}
	skip := func(reason string) (probe.Probe, error) {
		f.State, f.Reason = probe.StateSkipped, reason
		q, err := record(f)
		if errors.Is(err, errFollowupRecorded) || errors.Is(err, errFollowupNotDue) {
			return d.db.Probe(p.ID)
		}
		if err == nil {
			log.Info("follow-up skipped", "reason", reason)
		}
		return q, err
	}
	if p.PastDeadline(now) {
		return skip("due after the probe's deadline")
	}
	if ok, reason, err := lim.Allow(ctx, v.Name, now); err != nil {
		log.Warn("cannot check the vendor's limits for a follow-up; will retry", "err", err)
		return p, fmt.Errorf("%w: %w", errFollowupRetry, err)
	} else if !ok {
		return skip(reason)
	}
	if d.sender == nil {
		return skip("no SMTP sender configured")
	}
	q := d.quoted(p)
	in, err := probe.ComposeFollowup(p, spec, i+1, v, q, probe.Composition{From: d.config().Mail.From,
		PlusAddressing: d.config().Mail.PlusAddressing, Key: d.key, Now: now})
	if err != nil {
		return skip(err.Error())
	}
	f.State, f.MessageID, f.InReplyTo, f.Subject = probe.StateSending, in.MessageID, in.InReplyTo, in.Subject
	stored, err := record(f)
	if errors.Is(err, errFollowupRecorded) || errors.Is(err, errFollowupNotDue) {
		return d.db.Probe(p.ID)
	} else if err != nil {
		return p, err
	}
	p = stored
	if conflicts, err := d.db.AddThreadIDs(p.ID, in.MessageID); err != nil {
		return p, err
	} else if len(conflicts) > 0 {
		log.Warn("follow-up Message-ID already belongs to another probe", "ids", conflicts)
	}
	d.markFolders(ctx, log)
	kept := false
	in.BeforeSend = func(raw []byte) error {
		if err := d.db.PutInquiryRaw(followupRawID(p.ID, i), raw); err != nil {
			return err
		}
		kept = true
		return nil
	}
	res, err := d.sender.Send(ctx, in)
	if err != nil {
		log.Warn("follow-up not sent", "err", err)
		return update(func(f *probe.Followup) { f.State, f.Reason = probe.StateFailed, err.Error() })
	}
	if !kept { // a Sender that does not call BeforeSend
		if err := d.db.PutInquiryRaw(followupRawID(p.ID, i), res.Raw); err != nil {
			log.Error("store raw follow-up", "err", err)
		}
	}
	if p, err = update(func(f *probe.Followup) { f.State, f.SentAt = probe.StateSent, res.AcceptedAt.UTC() }); err != nil {
		return p, err
	}
	log.Info("follow-up sent", "message_id", in.MessageID, "in_reply_to", in.InReplyTo)
	if d.sent != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := d.sent.AppendSent(actx, res.Raw); errors.Is(err, mailbox.ErrProviderCopy) {
			log.Info("the provider filed the follow-up's sent copy itself", "detail", err)
		} else if err != nil {
			log.Warn("sent copy of the follow-up not filed", "err", err)
		}
	}
	return p, nil
}

// followupRawID is the raw-bucket id of probe id's i-th follow-up as sent.
func followupRawID(id string, i int) string { return id + "/followup/" + strconv.Itoa(i) }

// quoted returns the vendor's latest reply to p (bounces aside) for a follow-up to
// answer and quote, or an empty Quoted (answer our own inquiry) when there is none.
func (d *Daemon) quoted(p probe.Probe) probe.Quoted {
	var latest *probe.Reply
	for k := range p.Replies {
		r := &p.Replies[k]
		if r.EffectiveKind() == probe.KindBounce {
			continue
		}
		if latest == nil || !r.ReceivedAt.Before(latest.ReceivedAt) {
			latest = r
		}
	}
	if latest == nil {
		return probe.Quoted{}
	}
	q := probe.Quoted{MessageID: latest.MessageID, Subject: latest.Subject, Date: latest.ReceivedAt, From: latest.From}
	if a, err := mail.ParseAddress(latest.From); err == nil && a.Name != "" {
		q.From = a.Name
	}
	if raw, err := d.db.ReplyRaw(latest.ID); err == nil {
		if m, err := mailbox.Parse(raw.Data, mailbox.ParseOptions{}); err == nil {
			q.Text, q.References = m.NewText, m.References
		}
	}
	return q
}

// resolvePendingFollowups settles follow-ups a crash left in state sending, as
// resolvePending settles probes: a copy in the sent folder makes it sent at the copy's
// time; otherwise it is unknown. It is never re-sent.
func (d *Daemon) resolvePendingFollowups(ctx context.Context) error {
	ps, err := d.db.Probes(store.Filter{Since: d.opts.Now().Add(-d.maxDeadline())})
	if err != nil {
		return err
	}
	for _, p := range ps {
		for _, f := range p.Followups {
			if f.State != probe.StateSending {
				continue
			}
			log := d.log.With("vendor", p.Vendor, "probe", p.ID, "followup", f.Index)
			state, reason, at := probe.StateUnknown, "interrupted during SMTP; no sent folder to check", time.Time{}
			if d.sent != nil {
				sentAt, found, err := d.sent.FindSent(ctx, f.MessageID)
				if err != nil {
					log.Warn("cannot check the sent folder for an interrupted follow-up; will retry at next start", "err", err)
					continue
				}
				if found {
					state, reason, at = probe.StateSent, "interrupted during SMTP; sent_at is the sent copy's INTERNALDATE", sentAt.UTC()
				} else {
					reason = "interrupted during SMTP; no copy in the sent folder"
				}
			}
			if _, err := d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
				for k := range p.Followups {
					if p.Followups[k].Index == f.Index && p.Followups[k].State == probe.StateSending {
						p.Followups[k].State, p.Followups[k].Reason, p.Followups[k].SentAt = state, reason, at
					}
				}
				return nil
			}); err != nil {
				return fmt.Errorf("probe %s: resolve follow-up %d: %w", p.ID, f.Index, err)
			}
			log.Warn("resolved a follow-up interrupted while sending", "state", state, "reason", reason)
		}
	}
	return nil
}
