package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/store"
)

// ErrUnknownVendor means a send named a vendor or script the configuration lacks.
var ErrUnknownVendor = errors.New("not in the configuration")

// pickScript chooses the script for the next probe of vendor v among names: the one
// used least recently for that vendor (never used first, then file order), so a
// schedule that lists several scripts rotates through them, and the rotation survives
// restarts because it is read from the stored probes.
func (d *Daemon) pickScript(v probe.Vendor, names []string) (probe.Script, error) {
	if len(names) == 0 {
		return probe.Script{}, fmt.Errorf("vendor %s: no script to send", v.Name)
	}
	ps, err := d.db.Probes(store.Filter{Vendor: v.Name, Since: d.opts.Now().AddDate(0, 0, -90)})
	if err != nil {
		return probe.Script{}, err
	}
	lastUse := map[string]int{}
	for i, p := range ps {
		lastUse[p.Script] = i + 1
	}
	best := slices.MinFunc(names, func(a, b string) int { return lastUse[a] - lastUse[b] })
	s, ok := d.config().Script(best)
	if !ok {
		return probe.Script{}, fmt.Errorf("vendor %s: script %q %w", v.Name, best, ErrUnknownVendor)
	}
	return s, nil
}

// SendRequest asks for one probe now.
type SendRequest struct {
	Vendor string `json:"vendor"`
	// Script is the script's id; "" picks the next in the rotation of the vendor's
	// first schedule (or the first script in the file when it has none).
	Script string `json:"script,omitempty"`
	// ScheduledAt is the cron time that caused the send; zero for a send by hand.
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	// LateBy is how late a catch-up send is.
	LateBy time.Duration `json:"late_by,omitempty"`
	// Scripts restricts the rotation to these ids (a schedule's list).
	Scripts []string `json:"scripts,omitempty"`
	// Force sends by hand to a paused vendor; without it such a send is refused with an
	// error wrapping ErrPaused. Scheduled fires never get here while their vendor is
	// paused: they are recorded as skipped.
	Force bool `json:"force,omitempty"`
}

// Send sends one inquiry and returns the stored probe. The probe is written in state
// sending with its Message-ID before SMTP, noted with stage data_end and data_end_at
// just before the final "." of DATA, and written as sent, with sent_at, after the
// server's 250; a send that fails is stored as failed with the server's text (as
// unknown when the server may have taken a copy: probe.ErrMaybeSent), and an error is
// returned with the probe. A copy goes to the sent folder when configured, and its
// INTERNALDATE gives the clock skew stored with the probe.
func (d *Daemon) Send(ctx context.Context, req SendRequest) (probe.Probe, error) {
	// One configuration for the whole send, even if a reload lands during it.
	cfg := d.config()
	v, ok := cfg.Vendor(req.Vendor)
	if !ok {
		return probe.Probe{}, fmt.Errorf("vendor %q %w (see `supportprobe check`)", req.Vendor, ErrUnknownVendor)
	}
	if req.ScheduledAt.IsZero() && !req.Force {
		if err := d.refusePaused(v.Name, d.opts.Now()); err != nil {
			return probe.Probe{}, err
		}
	} else if req.ScheduledAt.IsZero() {
		if p, ok, err := d.pauseAt(v.Name, d.opts.Now()); err == nil && ok {
			d.log.Warn("sending by hand to a paused vendor (--force)", "vendor", v.Name, "reason", p.Reason())
		}
	}
	var s probe.Script
	var err error
	switch {
	case req.Script != "":
		if s, ok = cfg.Script(req.Script); !ok {
			return probe.Probe{}, fmt.Errorf("script %q %w (see `supportprobe check`)", req.Script, ErrUnknownVendor)
		}
	case len(req.Scripts) > 0:
		s, err = d.pickScript(v, req.Scripts)
	case len(v.Schedules) > 0:
		s, err = d.pickScript(v, v.Schedules[0].Scripts)
	default:
		s, err = d.pickScript(v, []string{cfg.Scripts[0].ID})
	}
	if err != nil {
		return probe.Probe{}, err
	}
	if d.sender == nil {
		return probe.Probe{}, fmt.Errorf("vendor %s: no SMTP sender configured", v.Name)
	}

	token, err := d.uniqueToken()
	if err != nil {
		return probe.Probe{}, err
	}
	// Before the probe exists, so that the mark precedes its CreatedAt, from which a first
	// sync looks for replies (watchSince).
	d.markFolders(ctx, d.log.With("vendor", v.Name))
	// The probe keeps the vendor's terms and the script's follow-ups as they are now, so
	// a later change of the configuration changes neither its figures nor its follow-ups.
	terms := v.Terms(s.Priority)
	terms.Script = s.Terms()
	p, err := d.db.CreateProbe(probe.Probe{
		Token: token, Vendor: v.Name, Script: s.ID, Priority: s.Priority, Language: s.Language,
		From: cfg.Mail.From.String(), To: v.To, ScheduledAt: req.ScheduledAt, LateBy: req.LateBy,
		State: probe.StateSending, Stage: probe.StageBeforeDataEnd, Terms: terms,
	})
	if err != nil {
		return probe.Probe{}, err
	}
	log := d.log.With("vendor", v.Name, "probe", p.ID, "script", s.ID)
	in, err := probe.Compose(p, s, v, probe.Composition{From: cfg.Mail.From, PlusAddressing: cfg.Mail.PlusAddressing, Key: d.key, Now: d.opts.Now()})
	if err != nil {
		return d.fail(p, err)
	}
	if p, err = d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
		p.MessageID, p.Subject = in.MessageID, in.Subject
		return nil
	}); err != nil {
		return p, err
	}
	kept := false
	in.BeforeSend = func(raw []byte) error {
		// The exact bytes are on record before SMTP: a crash during it leaves a probe
		// in state sending whose inquiry can still be shown and exported.
		if err := d.db.PutInquiryRaw(p.ID, raw); err != nil {
			return err
		}
		kept = true
		return nil
	}
	in.BeforeDataEnd = func() error {
		// From the final "." on, the server may have the inquiry: noted durably before
		// it, so a crash before the note is known to have sent nothing (resolvePending).
		// A retry keeps the first time, which precedes whichever copy was accepted.
		at := d.opts.Now().UTC()
		_, err := d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
			if p.Stage != probe.StageDataEnd {
				p.Stage, p.DataEndAt = probe.StageDataEnd, at
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("probe %s: note the end of DATA: %w", p.ID, err)
		}
		return nil
	}
	res, err := d.sender.Send(ctx, in)
	d.noteSMTP(p.ID, err)
	if err != nil {
		if errors.Is(err, probe.ErrMaybeSent) {
			// The server may hold a copy: not failed (a failed probe never reached the
			// vendor) but unknown, until a reply citing it proves it went out.
			log.Warn("inquiry maybe sent", "err", err)
			return d.unknown(p, err)
		}
		log.Warn("inquiry not sent", "err", err)
		return d.fail(p, err)
	}
	if !kept { // a Sender that does not call BeforeSend
		if err := d.db.PutInquiryRaw(p.ID, res.Raw); err != nil {
			log.Error("store raw inquiry", "err", err)
		}
	}
	if p, err = d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
		p.State, p.SentAt = probe.StateSent, res.AcceptedAt.UTC()
		return nil
	}); err != nil {
		return p, err
	}
	d.wakeFollowups() // a reminder is due from now on
	d.metrics.sent.add(1, v.Name)
	log.Info("inquiry sent", "message_id", p.MessageID, "attempts", res.Attempts, "late_by", req.LateBy)
	if d.sent != nil {
		// The inquiry is out: finish its record even if shutdown has begun, within a bound.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		skew, err := d.sent.AppendSent(actx, res.Raw)
		if errors.Is(err, mailbox.ErrProviderCopy) {
			log.Info("the provider filed the sent copy itself; latencies use our clock without a skew correction", "detail", err)
			return p, nil
		}
		if err != nil {
			log.Warn("sent copy not filed; latencies use our clock without a skew correction", "err", err)
			return p, nil
		}
		p, err = d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
			p.ClockSkew, p.SkewMeasured = skew, true
			return nil
		})
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

// fail records p as failed with cause and returns cause, wrapped with the probe.
func (d *Daemon) fail(p probe.Probe, cause error) (probe.Probe, error) {
	d.metrics.failed.add(1, p.Vendor)
	p2, err := d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
		p.State, p.FailReason = probe.StateFailed, cause.Error()
		return nil
	})
	if err != nil {
		return p, errors.Join(cause, err)
	}
	d.wakeAlerts() // send_failed
	return p2, fmt.Errorf("probe %s to %s: %w", p.ID, p.Vendor, cause)
}

// unknown records p as unknown, because cause came after the server may have accepted
// the inquiry, and returns cause, wrapped with the probe.
func (d *Daemon) unknown(p probe.Probe, cause error) (probe.Probe, error) {
	d.metrics.failed.add(1, p.Vendor)
	p2, err := d.db.UpdateProbe(p.ID, func(p *probe.Probe) error {
		p.State, p.FailReason = probe.StateUnknown, "maybe sent, not sent again: "+cause.Error()
		return nil
	})
	if err != nil {
		return p, errors.Join(cause, err)
	}
	return p2, fmt.Errorf("probe %s to %s: %w", p.ID, p.Vendor, cause)
}

func (d *Daemon) uniqueToken() (string, error) {
	for range 10 {
		t := probe.NewToken()
		id, err := d.db.ProbeByToken(t)
		if err != nil {
			return "", err
		}
		if id == "" {
			return t, nil
		}
	}
	return "", errors.New("could not draw an unused probe token in 10 tries")
}

// resolvePending settles probes a crash left in state sending (see probe.CertainlyNotSent),
// then promotes unknown probes that a recorded reply proves sent (promoteProven). A probe
// that certainly reached no server (no Message-ID, or no note of the end of DATA) is
// failed. One that may have gone out is looked up in the sent folder: a copy there
// means it went out (sent, at the copy's time, corrected by nothing: the copy's
// INTERNALDATE is the server's clock); no copy, or no way to look, makes it unknown,
// until a reply citing it proves otherwise. Nothing is re-sent automatically: a
// duplicate inquiry would spoil the measurement and annoy the vendor.
func (d *Daemon) resolvePending(ctx context.Context) error {
	ps, err := d.db.PendingProbes()
	if err != nil {
		return err
	}
	for _, p := range ps {
		log := d.log.With("vendor", p.Vendor, "probe", p.ID)
		var update func(*probe.Probe) error
		maybe := "interrupted during SMTP after the end of DATA was noted; maybe sent, not sent again"
		if p.Stage == "" {
			maybe = "interrupted during SMTP; maybe sent, not sent again"
		}
		if reason, ok := probe.CertainlyNotSent(p); ok {
			update = func(p *probe.Probe) error {
				p.State, p.FailReason = probe.StateFailed, reason
				return nil
			}
		} else if d.sent == nil {
			update = func(p *probe.Probe) error {
				p.State, p.FailReason = probe.StateUnknown, maybe+"; no sent folder to check"
				return nil
			}
		} else {
			at, found, err := d.sent.FindSent(ctx, p.MessageID)
			if err != nil {
				log.Warn("cannot check the sent folder for an interrupted probe; will retry at next start", "err", err)
				continue
			}
			update = func(p *probe.Probe) error {
				if found {
					p.State, p.SentAt = probe.StateSent, at.UTC()
					p.FailReason = "interrupted during SMTP; sent_at is the sent copy's INTERNALDATE"
				} else {
					p.State, p.FailReason = probe.StateUnknown, maybe+"; no copy in the sent folder"
				}
				return nil
			}
		}
		q, err := d.db.UpdateProbe(p.ID, update)
		if err != nil {
			return err
		}
		log.Warn("resolved a probe interrupted while sending", "state", q.State, "reason", q.FailReason)
	}
	return d.promoteProven()
}

// promoteProven makes sent every unknown probe created within the longest deadline that
// a recorded reply proves went out (probe.Probe.Promote). handleMail does the same as
// each reply is recorded; this catches a crash between recording the reply and
// promoting its probe.
func (d *Daemon) promoteProven() error {
	ps, err := d.db.Probes(store.Filter{Since: d.opts.Now().Add(-d.maxDeadline())})
	if err != nil {
		return fmt.Errorf("list recent probes to promote unknown ones: %w", err)
	}
	for _, p := range ps {
		if p.State != probe.StateUnknown {
			continue
		}
		for _, r := range p.Replies {
			if !probe.ProvesSent(r.MatchedBy) {
				continue
			}
			if _, err := d.promote(r); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// promote makes r's probe sent when it is unknown and r proves it went out; it reports
// whether it did.
func (d *Daemon) promote(r probe.Reply) (bool, error) {
	promoted := false
	q, err := d.db.UpdateProbe(r.ProbeID, func(p *probe.Probe) error {
		promoted = p.Promote(r)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("probe %s: promote to sent on reply %s: %w", r.ProbeID, r.ID, err)
	}
	if promoted {
		d.log.Warn("an unknown probe is sent: a reply proves it", "vendor", q.Vendor, "probe", q.ID,
			"reply", r.ID, "matched_by", r.MatchedBy, "sent_at", q.SentAt)
		d.wakeFollowups()
	}
	return promoted, nil
}
