package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/dashboard"
	"supportprobe/probe/evidence"
	"supportprobe/store"
)

// The dashboard's wiring: its decisions go through the same methods as POST /v1/mark
// and /v1/link (the CLI's mark, review and link), its archives through the code of
// `export`, signed with the state directory's key.

// MarkReply records a person's decision about reply replyID's kind: the override wins
// over the classifier from then on, the audit log gets the entry (with o.By and o.Note),
// and the follow-ups are woken, since a reply re-marked human can make one due. The
// control socket's POST /v1/mark and the dashboard's /review both call it. An unknown
// reply is an error wrapping store.ErrNotFound.
func (d *Daemon) MarkReply(replyID string, o probe.Override) (probe.Reply, error) {
	rep, err := d.db.SetOverride(replyID, o)
	d.wakeFollowups()
	return rep, err
}

// LinkMessage ties the inbound message ref names (an unmatched mail's "U1", a reply's
// "R7" or a Message-ID) to probe probeID by hand (store.DB.Link: audited, with o.By and
// o.Note) and wakes the follow-ups. The control socket's POST /v1/link and the
// dashboard's /unmatched both call it.
func (d *Daemon) LinkMessage(ref, probeID string, o store.LinkOptions) (probe.Reply, error) {
	rep, err := d.db.Link(ref, probeID, o)
	d.wakeFollowups()
	return rep, err
}

// dashboardDecider makes the dashboard's decisions through the daemon.
type dashboardDecider struct{ d *Daemon }

func (x dashboardDecider) Mark(replyID string, o probe.Override) (probe.Reply, error) {
	return x.d.MarkReply(replyID, o)
}

func (x dashboardDecider) Link(ref, probeID string, o store.LinkOptions) (probe.Reply, error) {
	return x.d.LinkMessage(ref, probeID, o)
}

// authUserKey is the request context key under which httpAuth puts who logged in.
type authUserKey struct{}

// withAuthUser returns r carrying who logged in, for the dashboard's audit entries.
func withAuthUser(r *http.Request, who string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), authUserKey{}, who))
}

// authUser returns who r logged in as ("" when the listener checked nobody).
func authUser(r *http.Request) string {
	s, _ := r.Context().Value(authUserKey{}).(string)
	return s
}

// bearerName names a bearer token in the audit log without revealing it: the first 12
// hex digits of its SHA-256.
func bearerName(sum [sha256.Size]byte) string {
	return "bearer token sha256:" + hex.EncodeToString(sum[:6])
}

// dashboardHandler builds the dashboard over the daemon's database, as the listener
// serves it.
func (d *Daemon) dashboardHandler() *dashboard.Handler {
	loc := time.UTC
	if s := d.config().Summary; s != nil && s.Location != nil {
		loc = s.Location // the weeks of the summary mail and `report --week`
	}
	opts := dashboard.Options{Now: d.opts.Now, Location: loc, Log: d.log,
		ReadOnly: func() bool { return d.config().Dashboard.ReadOnly },
		Decider:  dashboardDecider{d},
		Evidence: d.writeEvidence,
		Pauses: func(vendor string, since, until time.Time) ([]probe.Pause, error) {
			stored, err := d.db.Pauses(vendor, since, until)
			if err != nil {
				return nil, err
			}
			return AllPauses(stored, d.config(), vendor, since, until), nil
		},
	}
	if hc := d.config().HTTP; hc != nil && !hc.Auth.IsZero() {
		opts.User = authUser
	}
	opts.Version = func() (string, error) {
		return strconv.FormatUint(d.db.RecordsGeneration(), 10) + "." + strconv.FormatUint(d.pageGen.Load(), 10), nil
	}
	return dashboard.New(d.db, opts)
}

// writeEvidence writes the signed evidence archive of probe probeID to w, as `export
// --probe` does, with the state directory's key (made if there is none yet, and
// logged).
func (d *Daemon) writeEvidence(ctx context.Context, probeID string, w io.Writer) error {
	p, err := d.db.Probe(probeID)
	if err != nil {
		return err
	}
	key, created, err := evidence.LoadOrCreateKey(d.config().StateDir)
	if err != nil {
		return err
	}
	if created {
		d.log.Warn("created the evidence signing key; back it up with the database", "fingerprint", key.Fingerprint())
	}
	now := d.opts.Now().UTC().Truncate(time.Second) // the zip keeps whole seconds
	items, audit, err := evidence.Collect(ctx, local{d.db}, []probe.Probe{p}, now)
	if err != nil {
		return err
	}
	if audit.Broken != "" {
		d.log.Warn("evidence archive carries a broken audit chain, as stored", "probe", probeID, "err", audit.Broken)
	}
	if _, err := evidence.Write(w, items, evidence.Meta{GeneratedAt: now, Generator: "supportprobe " + d.version(),
		Selection: "--probe " + probeID + " (dashboard download)", Key: key, Audit: audit}); err != nil {
		return fmt.Errorf("probe %s: write the archive: %w", probeID, err)
	}
	return nil
}
