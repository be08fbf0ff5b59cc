package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// Live updates. A page changes for two reasons: something was written to the store (a
// reply recorded, a decision, a probe sent) or time passed (a probe's SLA target or
// deadline went by, turning it breached or unanswered without any write). Each page
// carries both: data-version, the store's version when it was rendered, and
// data-refresh-at, the next instant its figures change by time alone. The script
// static/live.js polls GET /live every LivePoll and fetches the page again when the
// version moved or that instant passed, then swaps the new <main> in, unless the
// person is typing in one of its forms, in which case it offers a button instead.
// Without script the pages work as before; only the live part is lost.

// LivePoll is how often the pages' script asks GET /live for the store's version.
const LivePoll = 5 * time.Second

// liveState is the answer of GET /live.
type liveState struct {
	Version string `json:"version"`
}

// boltDB is implemented by *store.DB: its bbolt handle, whose last committed
// transaction ID is the default version.
type boltDB interface{ Bolt() *bbolt.DB }

// version returns the store's version for live updates; "" when none is known.
func (h *Handler) version() string {
	if h.opts.Version != nil {
		v, err := h.opts.Version()
		if err != nil {
			h.opts.Log.Warn("dashboard: read the store's version for live updates", "err", err)
			return ""
		}
		return v
	}
	b, ok := h.db.(boltDB)
	if !ok {
		return ""
	}
	var id int
	if err := b.Bolt().View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		h.opts.Log.Warn("dashboard: read the store's version for live updates", "err", err)
		return ""
	}
	return strconv.Itoa(id)
}

// live answers GET /live: the store's version, for the pages' script.
func (h *Handler) live(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(liveState{Version: h.version()})
}

// nextChange returns the first instant after now at which one of ps changes status or
// SLA state by time alone (its SLA target or its deadline passes without a person's
// answer): the first instant at which the state differs, so figures computed before it
// hold until then; zero when none will. Probes answered, bounced, not sent or past their
// deadline change only through a write, which the version shows.
func nextChange(ps []probe.Probe, now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, p := range ps {
		if p.State != probe.StateSent || p.SentAt.IsZero() {
			continue
		}
		deadline := p.SentAt.Add(p.Terms.Deadline)
		if !deadline.After(now) || answered(p) {
			continue
		}
		consider(deadline)
		if t := p.Terms.SLA; t != nil {
			// The target is past once more than FirstResponse has elapsed on its clock
			// (probe's SLA states): the first instant after it. On business time that is
			// not the instant the target is reached when it is reached at a closing
			// time: then it is just after the next opening.
			over := t.FirstResponse + time.Nanosecond
			at := p.SentAt.Add(over)
			if t.Clock == probe.Business {
				bh, err := probe.NewBusinessHours(p.Terms.Hours)
				if err != nil {
					continue // the page shows the error; nothing to wait for
				}
				at = bh.Add(p.SentAt, over)
			}
			consider(at)
		}
	}
	return next
}

// answered reports whether a person's reply is among p's replies (whatever its time:
// a late one changes nothing later either).
func answered(p probe.Probe) bool {
	for _, r := range p.Replies {
		if r.EffectiveKind() == probe.KindHuman || r.EffectiveKind() == probe.KindBounce {
			return true
		}
	}
	return false
}

// Times are shown in the vendor's zone (UTC beside) or in UTC alone: ?tz=vendor or
// ?tz=utc, remembered in a cookie for the next pages, so the toggle needs no script.
const tzCookie = "supportprobe_tz"

// utcOnly reads the time display of r, remembering a choice made by query parameter;
// an unknown value is ignored (the pages keep their default, the vendor's zone).
func utcOnly(w http.ResponseWriter, r *http.Request) bool {
	switch q := r.URL.Query().Get("tz"); q {
	case "utc", "vendor":
		http.SetCookie(w, &http.Cookie{Name: tzCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		return q == "utc"
	}
	c, err := r.Cookie(tzCookie)
	return err == nil && c.Value == "utc"
}

// withQuery returns r's address with key set to value (other parameters kept).
func withQuery(r *http.Request, key, value string) string {
	q := r.URL.Query()
	q.Set(key, value)
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
