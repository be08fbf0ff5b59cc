package daemon

import (
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/probe/alert"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// Alerts (package alert has the big picture). The daemon looks at its state and raises
// an event for each situation it finds; the dispatcher delivers them. It looks when a
// situation can have arisen, not on a ticker: right after a write that can raise one (an
// inquiry sent or failed, a reply or unmatched mail recorded, a reply re-marked or
// linked, a reload, the inbox watcher disconnected or synced again: wakeAlerts), a
// second after the earliest instant at which a known probe or message crosses a
// threshold (a target, a deadline, the review wait, the watcher_down threshold), and in
// any case on the daemon's safety-net grid every Options.AlertInterval (15 min by
// default): that bounds how late a state directory's file system filled by another
// process is noticed. A check reads the week of probes only after a write; otherwise
// it reads the few whose thresholds have come (alertAgenda).
// Every event's ID names what it is about, so a situation raises one alert however many
// times it is seen, across restarts too. Situations that began before the alert log
// existed (an upgrade from a version without alerts) are not raised: the log's epoch,
// stored at its first use, marks where alerting began.

// Alert conditions kept in the store across restarts.
const (
	condEpoch   = "epoch"        // when alerting began in this state directory
	condRunning = "running"      // set while a daemon runs; found at start = a crash
	condWatcher = "watcher_down" // the inbox watcher is down (alert raised)
	condDisk    = "disk_low"     // the state directory's file system is short of space
)

// alertScanMargin is how far beyond the longest deadline the scan for probes reaches,
// so a probe decided at its deadline is still seen on the next checks.
const alertScanMargin = 24 * time.Hour

// alertRetry is how soon the alert loop tries again after a check that failed.
const alertRetry = 30 * time.Second

// alertSlack is added to the instant a situation arises before the loop looks, so a
// check never runs a hair before it.
const alertSlack = time.Second

// buildAlerts creates the dispatcher on the configured channels. Without an alerts
// section it has no channel, and the events are still logged for `alerts list`.
func (d *Daemon) buildAlerts() {
	var chans []alert.Channel
	perHour := configs.DefaultAlertsPerHour
	if a := d.config().Alerts; a != nil {
		perHour = a.MaxPerHour
		for _, w := range a.Webhooks {
			wh := &alert.Webhook{ChannelName: w.Name, URL: w.URL, Slack: w.Slack, Timeout: w.Timeout}
			if !w.Secret.IsZero() {
				secret := w.Secret
				wh.Secret = func() ([]byte, error) {
					v, err := secret.Value()
					return []byte(v), err
				}
			}
			chans = append(chans, wh)
		}
		if len(a.EmailTo) > 0 {
			chans = append(chans, &alert.Email{To: a.EmailTo, Send: d.sendAlertMail})
		}
		if len(a.Command) > 0 {
			chans = append(chans, &alert.Command{Argv: a.Command})
		}
	}
	d.alerts = alert.NewDispatcher(d.db.Alerts(), chans, alert.Options{MaxPerHour: perHour, Now: d.opts.Now, Logger: d.log})
}

// sendAlertMail sends one alert through the configured SMTP server, as a plain mail
// from the probes' sender to the alerts' recipients only.
func (d *Daemon) sendAlertMail(ctx context.Context, to []string, subject, body string) error {
	ms, ok := d.sender.(*mailbox.Sender)
	if !ok {
		return errors.New("the configured sender cannot send alert mail")
	}
	_, err := ms.SendSummary(ctx, mailbox.Summary{
		From: d.config().Mail.From.String(), To: to, Subject: subject, Text: body,
		HTML: "<pre>" + html.EscapeString(body) + "</pre>", Date: d.opts.Now(),
	})
	return err
}

// Alerts returns the daemon's alert dispatcher: its channels' status, and Raise for
// `alerts test`.
func (d *Daemon) Alerts() *alert.Dispatcher { return d.alerts }

// TestAlert sends a test alert on channel ("" for every configured channel) at once,
// records it in the alert log, and returns each delivery's outcome.
func (d *Daemon) TestAlert(ctx context.Context, channel string) ([]alert.Delivery, error) {
	now := d.opts.Now().UTC()
	host, _ := os.Hostname()
	ev := alert.Event{ID: fmt.Sprintf("%s/%d", alert.Test, now.UnixNano()), Event: alert.Test, At: now,
		Message: fmt.Sprintf("A test alert from supportprobe on %s (state directory %s): this channel works.", host, d.config().StateDir)}
	var names []string
	if channel != "" {
		names = []string{channel}
	}
	if len(d.alerts.Channels()) == 0 {
		return nil, fmt.Errorf("%w: the configuration has no alerts section with a webhook, email or command", alert.ErrNoChannel)
	}
	return d.alerts.Send(ctx, ev, names...)
}

func (d *Daemon) waitAfter() time.Duration { _, w, _ := d.alertThresholds(); return w }

// alertThresholds returns the configured thresholds, or the defaults.
func (d *Daemon) alertThresholds() (watcherDown, waiting time.Duration, diskFree int64) {
	if a := d.config().Alerts; a != nil {
		return a.WatcherDownAfter, a.WaitingAfter, a.DiskFreeBelow
	}
	return configs.DefaultWatcherDownAfter, configs.DefaultWaitingAfter, configs.DefaultDiskFreeBelow
}

// startAlerts raises crash_restart when the previous daemon did not stop cleanly, marks
// this one as running, and notes the log's epoch on first use.
func (d *Daemon) startAlerts() error {
	log := d.db.Alerts()
	now := d.opts.Now().UTC()
	if _, ok, err := log.Condition(condEpoch); err != nil {
		return err
	} else if !ok {
		if err := log.SetCondition(condEpoch, store.Condition{Since: now}); err != nil {
			return err
		}
	}
	prev, crashed, err := log.Condition(condRunning)
	if err != nil {
		return err
	}
	if crashed {
		ev := alert.Event{ID: fmt.Sprintf("%s/%d", alert.CrashRestart, prev.Since.UnixNano()), Event: alert.CrashRestart, At: now,
			Message: fmt.Sprintf("supportprobe restarted after stopping without a clean shutdown (the previous run began %s); probes caught mid-send were settled, see `supportprobe history --state unknown`.", prev.Since.Format(time.RFC3339))}
		if _, err := d.alerts.Raise(ev); err != nil {
			return err
		}
	}
	return log.SetCondition(condRunning, store.Condition{Since: now})
}

// stopAlerts records a clean shutdown.
func (d *Daemon) stopAlerts() {
	if err := d.db.Alerts().ClearCondition(condRunning); err != nil {
		d.log.Warn("alerts: record the clean shutdown", "err", err)
	}
}

// runAlerts checks for situations until ctx ends: at once, then whenever one can have
// arisen (see the top of this file), and at the latest on the safety-net grid of
// interval (untilGrid). It calls first, if not nil, after the first check.
func (d *Daemon) runAlerts(ctx context.Context, interval time.Duration, first func()) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		next, err := d.checkAlertsNext(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("alerts: check the daemon's state", "err", err)
		}
		if first != nil {
			first()
			first = nil
		}
		now := d.opts.Now()
		wait := untilGrid(now, interval)
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(now), 0)+alertSlack)
		}
		if at := d.watcherDue(now); !at.IsZero() {
			wait = min(wait, max(at.Sub(now), 0)+alertSlack)
		}
		if err != nil {
			wait = min(wait, alertRetry, interval)
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.alertWake.c():
			// Reset needs no drain: since Go 1.23 it discards a stale fire.
		}
	}
}

// wakeAlerts makes the alert loop look again now: something was written that can raise
// an alert, or the inbox watcher lost its connection. It never blocks.
func (d *Daemon) wakeAlerts() { d.alertWake.signal() }

// watcherDue returns when the alert loop must look at the inbox watcher again by
// itself: while the watcher is disconnected and no watcher_down alert stands, the
// instant the threshold passes. Zero when a signal will tell it instead: the watcher's
// disconnection and the first sync of each connection wake the loop
// (mailbox.WatchOptions OnDisconnect and OnConnectSynced), so neither watcher_down's
// start nor watcher_up needs a poll.
func (d *Daemon) watcherDue(now time.Time) time.Time {
	w := d.watcher.Load()
	if w == nil {
		return time.Time{}
	}
	st := w.State()
	if st.Connected {
		return time.Time{}
	}
	_, down, err := d.db.Alerts().Condition(condWatcher)
	switch {
	case err != nil:
		return now.Add(alertRetry)
	case down:
		return time.Time{}
	}
	after, _, _ := d.alertThresholds()
	return d.healthySince(st).Add(after)
}

// healthySince is the instant from which the watcher counts as down when it is: its
// last complete sync, or the daemon's start if later.
func (d *Daemon) healthySince(st mailbox.WatchState) time.Time {
	if st.LastSync.Before(d.started) {
		return d.started
	}
	return st.LastSync
}

// untilGrid returns how long from now to the next multiple of every (counted from
// Go's zero time, whatever the zone). The daemon's safety-net timers (the alert checks,
// the alert dispatcher, the follow-up passes) all fire on this grid, so an idle daemon
// wakes once for all of them rather than once for each.
func untilGrid(now time.Time, every time.Duration) time.Duration {
	if every <= 0 {
		return 0
	}
	return now.Truncate(every).Add(every).Sub(now)
}

// checkAlerts raises an event for every situation that needs a person now.
func (d *Daemon) checkAlerts(ctx context.Context) error {
	_, err := d.checkAlertsNext(ctx)
	return err
}

// checkAlertsNext is checkAlerts; it also returns the earliest instant after now at which
// a probe, reply or unmatched message it read will cross a threshold (zero if none).
func (d *Daemon) checkAlertsNext(ctx context.Context) (next time.Time, err error) {
	defer func() {
		if err != nil {
			// Some events may not have been raised: the next check looks at everything.
			d.agenda.invalidate()
		}
	}()
	now := d.opts.Now().UTC()
	log := d.db.Alerts()
	epoch, _, err := log.Condition(condEpoch)
	if err != nil {
		return time.Time{}, err
	}
	var evs []alert.Event
	probeEvs, waiting, next, err := d.probeAlerts(now)
	if err != nil {
		return time.Time{}, err
	}
	evs = append(evs, probeEvs...)
	unmatched, unmatchedNext, err := d.unmatchedWaiting(now)
	if err != nil {
		return time.Time{}, err
	}
	next = earliest(next, unmatchedNext)
	if ev, ok := reviewAlert(waiting, unmatched, d.waitAfter()); ok {
		evs = append(evs, ev)
	}
	for _, ev := range evs {
		if ev.At.Before(epoch.Since) {
			continue
		}
		if _, err := d.alerts.Raise(ev); err != nil {
			return next, err
		}
	}
	if err := d.watcherAlert(now); err != nil {
		return next, err
	}
	return next, d.diskAlert(now)
}

// earliest returns the earlier of two instants, a zero one counting as none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// waitingItem is a reply awaiting review or an unmatched message past the threshold.
type waitingItem struct {
	id, vendor, probe string
	since             time.Time
	created           time.Time // a reply's probe's creation (zero for unmatched mail)
}

// probeAlerts finds, among the probes that can still change (created within the
// longest deadline and a margin: the window the state gauges read too), probes open past
// target, decided breaches, failed and bounced sends, and replies awaiting review past
// the threshold. It returns the events of the probes it looked at (raising one already
// logged is a no-op), every reply past the review wait, and next: the earliest instant
// after now at which one of the window's probes will cross a threshold (its SLA target,
// its deadline, a reply's review wait; zero if none).
//
// It reads the whole window only when a probe or reply was written since the last
// check (store.RecordsGeneration), the configuration changed, or the window moved back;
// otherwise it reads only the probes whose thresholds have come since (alertAgenda).
func (d *Daemon) probeAlerts(now time.Time) (evs []alert.Event, waiting []waitingItem, next time.Time, err error) {
	return d.probeAlertsWith(&d.agenda, now)
}

// probeAlertsWith is probeAlerts on agenda a.
func (d *Daemon) probeAlertsWith(a *alertAgenda, now time.Time) (evs []alert.Event, waiting []waitingItem, next time.Time, err error) {
	_, waitAfter, _ := d.alertThresholds()
	since := now.Add(-d.maxDeadline() - alertScanMargin)
	a.mu.Lock()
	defer a.mu.Unlock()
	gen, conf := d.db.RecordsGeneration(), d.config() // before reading: a write during the read makes the next check read again
	if !a.valid || gen != a.gen || conf != a.conf || since.Before(a.since) {
		a.valid = false
		ps, err := d.db.Probes(store.Filter{Since: since})
		if err != nil {
			return nil, nil, time.Time{}, err
		}
		a.fullReads++
		a.due, a.waiting = a.due[:0], a.waiting[:0]
		for _, p := range ps {
			pevs, pwait, at := d.probeSituations(p, now, waitAfter)
			evs = append(evs, pevs...)
			a.waiting = append(a.waiting, pwait...)
			for _, t := range at {
				a.due = append(a.due, agendaItem{at: t, probe: p.ID, created: p.CreatedAt})
			}
		}
		a.valid, a.gen, a.conf = true, gen, conf
	} else {
		// Nothing was written: only time moved. Drop what left the window, and look
		// again at the probes whose thresholds have come.
		inWindow := func(created time.Time) bool { return !created.Before(since) }
		var came []string
		kept := a.due[:0]
		for _, it := range a.due {
			switch {
			case !inWindow(it.created):
			case !it.at.After(now):
				if !slices.Contains(came, it.probe) {
					came = append(came, it.probe)
				}
			default:
				kept = append(kept, it)
			}
		}
		a.due = kept
		a.waiting = slices.DeleteFunc(a.waiting, func(w waitingItem) bool { return !inWindow(w.created) })
		for _, id := range came {
			// Its other thresholds and its waiting replies come back from the fresh look.
			a.due = slices.DeleteFunc(a.due, func(it agendaItem) bool { return it.probe == id })
			a.waiting = slices.DeleteFunc(a.waiting, func(w waitingItem) bool { return w.probe == id })
			p, err := d.db.Probe(id)
			if err != nil {
				a.valid = false
				return nil, nil, time.Time{}, err
			}
			a.dueReads++
			pevs, pwait, at := d.probeSituations(p, now, waitAfter)
			evs = append(evs, pevs...)
			a.waiting = append(a.waiting, pwait...)
			for _, t := range at {
				a.due = append(a.due, agendaItem{at: t, probe: p.ID, created: p.CreatedAt})
			}
		}
	}
	a.since = since
	slices.SortFunc(a.due, func(x, y agendaItem) int { return x.at.Compare(y.at) })
	if len(a.due) > 0 {
		next = a.due[0].at
	}
	return evs, slices.Clone(a.waiting), next, nil
}

// probeSituations looks at one probe as of now: the events it calls for, its replies
// past the review wait, and the instants after now at which it will cross a threshold
// (its SLA target and deadline while open, a reply's review wait).
func (d *Daemon) probeSituations(p probe.Probe, now time.Time, waitAfter time.Duration) (evs []alert.Event, waiting []waitingItem, at []time.Time) {
	future := func(t time.Time) {
		if t.After(now) {
			at = append(at, t)
		}
	}
	switch p.State {
	case probe.StateFailed:
		evs = append(evs, alert.Event{ID: alert.SendFailed + "/" + p.ID, Event: alert.SendFailed, Vendor: p.Vendor, Probe: p.ID, At: p.CreatedAt,
			Message: fmt.Sprintf("%s to %s was not sent: %s.", p.ID, p.Vendor, strings.TrimSuffix(cmpOr(p.FailReason, "no reason recorded"), "."))})
		return evs, nil, nil
	case probe.StateSent:
	default:
		return nil, nil, nil
	}
	m, err := probe.Measure(p, now)
	if err != nil {
		d.log.Warn("alerts: measure probe", "probe", p.ID, "err", err)
		return nil, nil, nil
	}
	if m.Status == probe.StatusBounced {
		at := p.SentAt
		for _, r := range p.Replies {
			if r.EffectiveKind() == probe.KindBounce {
				at = r.ReceivedAt
				break
			}
		}
		evs = append(evs, alert.Event{ID: alert.Bounced + "/" + p.ID, Event: alert.Bounced, Vendor: p.Vendor, Probe: p.ID, At: at,
			Message: fmt.Sprintf("%s to %s bounced: the vendor's side returned it as undeliverable; check the support address (supportprobe show %s).", p.ID, p.Vendor, p.ID)})
	}
	if p.Terms.SLA != nil {
		target := targetText(p)
		switch m.SLA {
		case probe.SLAOpenBreached:
			evs = append(evs, alert.Event{ID: alert.OpenPastTarget + "/" + p.ID, Event: alert.OpenPastTarget, Vendor: p.Vendor, Probe: p.ID, At: now,
				Message: fmt.Sprintf("%s (%s) to %s has had no response for %s, past its %s target.", p.ID, p.Priority, p.Vendor, roundDur(now.Sub(p.SentAt)), target)})
		case probe.SLABreached:
			msg := fmt.Sprintf("%s (%s) to %s breached its %s target: no response by the deadline.", p.ID, p.Priority, p.Vendor, target)
			at := m.Deadline
			if m.FirstResponse != nil {
				at = m.FirstResponse.ReceivedAt
				msg = fmt.Sprintf("%s (%s) to %s breached its %s target: the first response came after %s.", p.ID, p.Priority, p.Vendor, target, roundDur(*m.ResponseLatency))
			}
			evs = append(evs, alert.Event{ID: alert.SLABreached + "/" + p.ID, Event: alert.SLABreached, Vendor: p.Vendor, Probe: p.ID, At: at, Message: msg})
		}
	}
	if p.Terms.SLA != nil && (m.SLA == probe.SLAOpen || m.SLA == probe.SLAOpenBreached) {
		future(targetAt(p))
		future(m.Deadline)
	}
	for _, r := range p.Replies {
		if r.EffectiveKind() != probe.KindNeedsReview {
			continue
		}
		if now.Sub(r.ReceivedAt) >= waitAfter {
			waiting = append(waiting, waitingItem{id: r.ID, vendor: p.Vendor, probe: p.ID, since: r.ReceivedAt, created: p.CreatedAt})
		} else {
			future(r.ReceivedAt.Add(waitAfter))
		}
	}
	return evs, waiting, at
}

// targetAt is the instant p's SLA target passes with no response: its first-response
// time after SentAt, in calendar time or in the vendor's business time (zero when the
// stored hours cannot be read, or never open).
func targetAt(p probe.Probe) time.Time {
	sla := p.Terms.SLA
	if sla.Clock != probe.Business {
		return p.SentAt.Add(sla.FirstResponse)
	}
	hours, err := probe.NewBusinessHours(p.Terms.Hours)
	if err != nil {
		return time.Time{}
	}
	return hours.Add(p.SentAt, sla.FirstResponse)
}

// alertAgenda is what an alert check keeps for the next one. Not the probes it read (a
// week of decoded probes kept alive, which every garbage collection would walk), but
// the instants at which one of them crosses a threshold, with the probe's ID, and the
// replies already past the review wait. While no probe or reply record is written
// (store.RecordsGeneration) and the configuration is the same, time is the only thing
// that changes what a probe calls for, and only at those instants: so the next check
// reads just the probes whose instants have come, instead of the window.
type alertAgenda struct {
	mu      sync.Mutex
	valid   bool // false: the next check reads the whole window
	gen     uint64
	conf    *configs.Config
	since   time.Time     // the window's start at the last check
	due     []agendaItem  // sorted by at
	waiting []waitingItem // replies past the review wait, with their probe's creation

	// fullReads counts the checks that read the whole window, dueReads the probes read
	// one by one as their thresholds came (tests read them).
	fullReads, dueReads int
}

// agendaItem is an instant at which a probe crosses a threshold.
type agendaItem struct {
	at      time.Time
	probe   string
	created time.Time // the probe's, which decides when it leaves the window
}

// invalidate makes the next check read the whole window again: after a check that
// failed, whose events may not all have been raised.
func (a *alertAgenda) invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.valid = false
}

// unmatchedWaiting returns the unmatched mail past the threshold that is worth a
// person's look: from a vendor's domain, or reading like a person's reply. Mail older
// than two weeks past the threshold is left to `inbox --unmatched`. The threshold counts
// from when the mail was detected. next is when the earliest such mail not yet past the
// threshold crosses it (zero if none).
func (d *Daemon) unmatchedWaiting(now time.Time) (out []waitingItem, next time.Time, err error) {
	_, waitAfter, _ := d.alertThresholds()
	us, err := d.db.UnmatchedMail(now.Add(-waitAfter-14*24*time.Hour), time.Time{})
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, u := range us {
		if u.Vendor == "" && u.Kind != probe.KindHuman && u.Kind != probe.KindNeedsReview {
			continue
		}
		// The wait counts from detection, as the query's bounds do: mail found late
		// (in Junk) still gets its full wait before it alerts.
		if at := u.DetectedAt.Add(waitAfter); !at.Before(now) {
			next = earliest(next, at)
			continue
		}
		out = append(out, waitingItem{id: u.ID, vendor: u.Vendor, since: u.ReceivedAt})
	}
	return out, next, nil
}

// reviewAlert folds the waiting replies and mail into one event, identified by the
// newest item past the threshold: a new alert goes out when another item crosses it,
// not on every tick.
func reviewAlert(replies, unmatched []waitingItem, waitAfter time.Duration) (alert.Event, bool) {
	all := append(slices.Clone(replies), unmatched...)
	if len(all) == 0 {
		return alert.Event{}, false
	}
	slices.SortFunc(all, func(a, b waitingItem) int { return a.since.Compare(b.since) })
	oldest, newest := all[0], all[len(all)-1]
	var parts []string
	if n := len(replies); n > 0 {
		parts = append(parts, fmt.Sprintf("%s awaiting review (supportprobe review)", plural(n, "reply", "replies")))
	}
	if n := len(unmatched); n > 0 {
		parts = append(parts, fmt.Sprintf("%s matched to no probe (supportprobe inbox --unmatched)", plural(n, "message", "messages")))
	}
	ev := alert.Event{ID: alert.ReviewWaiting + "/" + newest.id, Event: alert.ReviewWaiting, Vendor: newest.vendor, Probe: newest.probe, At: newest.since.Add(waitAfter),
		Message: fmt.Sprintf("%s; the oldest, %s, has waited since %s. Until decided, they count as no response.", strings.Join(parts, " and "), oldest.id, oldest.since.UTC().Format(time.RFC3339))}
	return ev, true
}

// watcherAlert raises watcher_down when the inbox watcher has been disconnected (or its
// logins refused) for the threshold, and watcher_up when it syncs again.
func (d *Daemon) watcherAlert(now time.Time) error {
	w := d.watcher.Load()
	if w == nil {
		return nil
	}
	return d.watcherTransition(w.State(), now)
}

// watcherTransition is watcherAlert on a given watcher state.
func (d *Daemon) watcherTransition(st mailbox.WatchState, now time.Time) error {
	after, _, _ := d.alertThresholds()
	log := d.db.Alerts()
	cond, down, err := log.Condition(condWatcher)
	if err != nil {
		return err
	}
	healthySince := d.healthySince(st)
	switch {
	case !down && !st.Connected && now.Sub(healthySince) >= after:
		reason := "no error recorded"
		if st.LastError != nil {
			reason = st.LastError.Error()
		}
		id := fmt.Sprintf("%s/%d", alert.WatcherDown, healthySince.UnixNano())
		ev := alert.Event{ID: id, Event: alert.WatcherDown, At: healthySince,
			Message: fmt.Sprintf("The inbox watcher has not reached the IMAP server since %s (%s): replies are not being recorded. Last error: %s", healthySince.UTC().Format(time.RFC3339), roundDur(now.Sub(healthySince)), reason)}
		if _, err := d.alerts.Raise(ev); err != nil {
			return err
		}
		return log.SetCondition(condWatcher, store.Condition{Since: healthySince, Alert: id})
	case down && st.Connected && st.LastSync.After(cond.Since):
		ev := alert.Event{ID: fmt.Sprintf("%s/%d", alert.WatcherUp, cond.Since.UnixNano()), Event: alert.WatcherUp, At: st.LastSync,
			Message: fmt.Sprintf("The inbox watcher is back: it synced at %s after being down since %s; replies that arrived meanwhile are recorded with their arrival times.", st.LastSync.UTC().Format(time.RFC3339), cond.Since.UTC().Format(time.RFC3339))}
		if _, err := d.alerts.Raise(ev); err != nil {
			return err
		}
		return log.ClearCondition(condWatcher)
	}
	return nil
}

// diskAlert raises disk_low once per episode of the state directory's file system
// holding less free space than the threshold.
func (d *Daemon) diskAlert(now time.Time) error {
	_, _, below := d.alertThresholds()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(d.config().StateDir, &fs); err != nil {
		return fmt.Errorf("free space of %s: %w", d.config().StateDir, err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if d.opts.DiskFree != nil {
		free = d.opts.DiskFree()
	}
	log := d.db.Alerts()
	_, low, err := log.Condition(condDisk)
	if err != nil {
		return err
	}
	switch {
	case !low && free < below:
		ev := alert.Event{ID: fmt.Sprintf("%s/%d", alert.DiskLow, now.UnixNano()), Event: alert.DiskLow, At: now,
			Message: fmt.Sprintf("The file system of the state directory %s has %s free, under the %s threshold: free space before the database can no longer record replies.", d.config().StateDir, bytesText(free), bytesText(below))}
		if _, err := d.alerts.Raise(ev); err != nil {
			return err
		}
		return log.SetCondition(condDisk, store.Condition{Since: now, Alert: ev.ID})
	case low && free >= below+below/10:
		// A tenth of hysteresis, so a file system at the threshold does not alert
		// on every tick it crosses it.
		return log.ClearCondition(condDisk)
	}
	return nil
}

func targetText(p probe.Probe) string {
	sla := p.Terms.SLA
	return fmt.Sprintf("%s %s", roundDur(sla.FirstResponse), sla.Clock)
}

// roundDur prints d by the one rounding rule every latency a person reads follows
// (view.Duration).
func roundDur(d time.Duration) string {
	secs := d.Seconds()
	return view.Duration(&secs)
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", n>>10)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
