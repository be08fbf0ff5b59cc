package daemon

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/store"
)

// dkimRetryWindow is how long after a reply was seen the background pass keeps
// retrying a DKIM check whose key lookup failed temporarily; after it the temperror
// stands, and says so.
const dkimRetryWindow = 72 * time.Hour

// vendorDomains are the domains a reply from vendor is expected to be signed by: its
// configured domains and the domains of its support addresses.
func (d *Daemon) vendorDomains(vendor string) []string {
	v, ok := d.config().Vendor(vendor)
	if !ok {
		return nil
	}
	var out []string
	add := func(dom string) {
		dom = strings.ToLower(strings.TrimSuffix(dom, "."))
		for _, have := range out {
			if have == dom {
				return
			}
		}
		if dom != "" {
			out = append(out, dom)
		}
	}
	for _, dom := range v.Domains {
		add(dom)
	}
	for _, to := range v.To {
		if a, err := mail.ParseAddress(to); err == nil {
			if _, dom, ok := strings.Cut(a.Address, "@"); ok {
				add(dom)
			}
		}
	}
	return out
}

func (d *Daemon) dkimOptions() mailbox.DKIMOptions {
	o := mailbox.DKIMOptions{Timeout: d.opts.DKIMTimeout, Now: d.opts.Now}
	if d.opts.DNSResolver != "" {
		o.Resolver = mailbox.NewResolver(d.opts.DNSResolver)
	}
	return o
}

// checkReplyAuth checks the DKIM signatures of reply r, already recorded, and records
// the result on it. The check is bounded by Options.DKIMTimeout; a store failure is
// only logged, since the reply itself is safe and the retry pass does not look at a
// reply without a check, so it is said loudly.
// A truncated copy (over the watcher's fetch limit) cannot match its body hash; the
// reason says so, so that a fail is not read as tampering.
func (d *Daemon) checkReplyAuth(ctx context.Context, r probe.Reply, vendor string, raw []byte, truncated bool, attempts int) {
	a := mailbox.CheckDKIM(ctx, raw, d.vendorDomains(vendor), d.dkimOptions())
	a.Attempts = attempts
	if truncated {
		for i := range a.Signatures {
			if a.Signatures[i].Result == probe.DKIMFail {
				a.Signatures[i].Reason += " (the copy checked was cut at the fetch limit, so its body cannot match)"
			}
		}
	}
	if _, err := d.db.SetReplyAuth(r.ID, a); err != nil {
		d.log.Error("cannot record the DKIM check of a reply; it shows as not checked", "reply", r.ID, "probe", r.ProbeID, "err", err)
		return
	}
	lvl := d.log.Info
	if a.NeedsRetry() {
		lvl = d.log.Warn
		d.dkimWake.signal() // arm retryDKIM's timer
	}
	lvl("reply DKIM checked", "reply", r.ID, "probe", r.ProbeID, "vendor", vendor, "dkim", a.Summary(),
		"retry", a.NeedsRetry(), "attempt", attempts)
}

// retryDKIM checks again, every interval until ctx ends, the replies whose DKIM key
// lookup failed temporarily, for dkimRetryWindow after they were seen. Its timer is
// armed only while such a reply exists: found at start, or signalled by checkReplyAuth
// (dkimWake) when a check leaves one; with none, the loop sleeps until ctx ends.
func (d *Daemon) retryDKIM(ctx context.Context, interval time.Duration) {
	t := time.NewTimer(interval)
	defer t.Stop()
	armed := true
	if pending, err := d.dkimRetryPending(); err != nil {
		// Unknown: keep the timer, whose pass looks again.
		d.log.Warn("DKIM retry: cannot list recent probes; looking again in one interval", "err", err, "interval", interval)
	} else if !pending {
		t.Stop()
		armed = false
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.dkimWake.c():
			if !armed {
				t.Reset(interval)
				armed = true
			}
		case <-t.C:
			d.retryDKIMOnce(ctx)
			// The checks that still fail signalled dkimWake: drop that signal, then look
			// at what is left. A reply recorded meanwhile signals after the drain, so it
			// is never lost between the two.
			select {
			case <-d.dkimWake.c():
			default:
			}
			pending, err := d.dkimRetryPending()
			armed = err != nil || pending
			if armed {
				t.Reset(interval)
			}
		}
	}
}

// dkimRetryPending reports whether a reply within dkimRetryWindow awaits a DKIM retry.
func (d *Daemon) dkimRetryPending() (bool, error) {
	rs, err := d.dkimRetries(d.opts.Now())
	return len(rs) > 0, err
}

// dkimRetry is a reply whose DKIM check is to be retried, and its vendor.
type dkimRetry struct {
	reply  probe.Reply
	vendor string
}

// dkimRetries lists the replies whose DKIM key lookup failed temporarily and that were
// seen within dkimRetryWindow of now.
func (d *Daemon) dkimRetries(now time.Time) ([]dkimRetry, error) {
	ps, err := d.db.Probes(store.Filter{Since: now.Add(-d.maxDeadline() - dkimRetryWindow)})
	if err != nil {
		return nil, err
	}
	var out []dkimRetry
	for _, p := range ps {
		for _, r := range p.Replies {
			if r.Auth.NeedsRetry() && now.Sub(r.DetectedAt) <= dkimRetryWindow {
				out = append(out, dkimRetry{reply: r, vendor: p.Vendor})
			}
		}
	}
	return out, nil
}

// retryDKIMOnce is one pass of retryDKIM; it returns how many replies it checked again.
func (d *Daemon) retryDKIMOnce(ctx context.Context) int {
	rs, err := d.dkimRetries(d.opts.Now())
	if err != nil {
		d.log.Warn("DKIM retry pass: cannot list recent probes; next pass tries again", "err", err)
		return 0
	}
	for _, x := range rs {
		raw, err := d.db.ReplyRaw(x.reply.ID)
		if err != nil {
			d.log.Warn("DKIM retry pass: cannot read the reply's raw message", "reply", x.reply.ID, "err", err)
			continue
		}
		d.checkReplyAuth(ctx, x.reply, x.vendor, raw.Data, raw.Truncated, x.reply.Auth.Attempts+1)
	}
	d.log.Debug("DKIM retry pass", "replies", len(rs))
	return len(rs)
}
