package dashboard

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/probe/review"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// Overview is the overview page's model and its JSON form.
type Overview struct {
	Period      Period        `json:"period"`
	GeneratedAt time.Time     `json:"generated_at"`
	Totals      report.Counts `json:"totals"`
	// Vendors has one row per vendor probed in the period, by name.
	Vendors []VendorRow `json:"vendors"`
	// PendingReview counts the replies to the period's probes waiting for a decision;
	// Unmatched the mail detected in the period that matched no probe, and
	// UnmatchedNoVendor those of it whose sender is no known vendor.
	PendingReview     int `json:"pending_review"`
	Unmatched         int `json:"unmatched"`
	UnmatchedNoVendor int `json:"unmatched_no_vendor"`
}

// VendorRow is one vendor's line of the overview. The figures are report.Vendor's:
// medians and p90 from the Kaplan–Meier estimate (not reached: "> X").
type VendorRow struct {
	Name           string              `json:"name"`
	Counts         report.Counts       `json:"counts"`
	AnsweredRate   *float64            `json:"answered_rate"`
	MedianResponse *report.Estimate    `json:"median_response"`
	P90Response    *report.Estimate    `json:"p90_response"`
	SLA            []report.Attainment `json:"sla"`
	// Breaches is the vendor's entries in the report's one breach list (breached and
	// open past target); OpenPastTarget those of them still open.
	Breaches       int `json:"breaches"`
	OpenPastTarget int `json:"open_past_target"`
	// BusinessHours and AfterHours are the answer rates of the probes sent inside and
	// outside the vendor's business hours.
	BusinessHours HoursRate `json:"business_hours"`
	AfterHours    HoursRate `json:"after_hours"`
	PendingReview int       `json:"pending_review"`
	Unmatched     int       `json:"unmatched"`
	// Paused is the pause (set by hand or a configured window) that keeps the vendor
	// from being probed now; null when it is probed.
	Paused *probe.Pause `json:"paused"`
}

// HoursRate is an answer rate: Answered of Decided (answered + unanswered) probes;
// Rate is null when none is decided.
type HoursRate struct {
	Answered int      `json:"answered"`
	Decided  int      `json:"decided"`
	Rate     *float64 `json:"rate"`
}

// VendorPage is the vendor page's model and its JSON form.
type VendorPage struct {
	Period      Period    `json:"period"`
	GeneratedAt time.Time `json:"generated_at"`
	// Vendor is the vendor's part of the report of the period; Vendor.Name is set even
	// when it had no probe in the period.
	Vendor   report.Vendor   `json:"vendor"`
	Breaches []report.Breach `json:"breaches"`
	// Filter is the probe table's selection and order; Probes the rows it selects, of
	// Total in the period.
	Filter Filter       `json:"filter"`
	Probes []report.Row `json:"probes"`
	Total  int          `json:"total"`

	Chart   Chart     `json:"-"`
	Heat    Heat      `json:"-"`
	Choices choices   `json:"-"`
	Zone    string    `json:"-"`
	Sorts   []sortCol `json:"-"`
}

// Filter selects and orders a vendor's probe table (query parameters of the same
// names). Empty fields select everything.
type Filter struct {
	Status   string `json:"status"`
	Priority string `json:"priority"`
	Script   string `json:"script"`
	Language string `json:"language"`
	// Sort is sent (default), id, priority, script, language, status, sla or latency;
	// Dir is asc (default) or desc.
	Sort string `json:"sort"`
	Dir  string `json:"dir"`
}

// sortKeys are the columns the probe table sorts by.
var sortKeys = []string{"sent", "id", "priority", "script", "language", "status", "sla", "latency"}

type choices struct {
	Statuses, Priorities, Scripts, Languages []string
}

type sortCol struct {
	Key, Label, Href, Mark string
}

func compareRows(key string) func(a, b report.Row) int {
	ptime := func(t *time.Time) int64 {
		if t == nil {
			return 0
		}
		return t.UnixNano()
	}
	switch key {
	case "id":
		return func(a, b report.Row) int { return cmp.Compare(a.ID, b.ID) }
	case "priority":
		return func(a, b report.Row) int { return cmp.Compare(a.Priority, b.Priority) }
	case "script":
		return func(a, b report.Row) int { return cmp.Compare(a.Script, b.Script) }
	case "language":
		return func(a, b report.Row) int { return cmp.Compare(a.Language, b.Language) }
	case "status":
		return func(a, b report.Row) int { return cmp.Compare(a.Status, b.Status) }
	case "sla":
		return func(a, b report.Row) int { return cmp.Compare(a.SLA, b.SLA) }
	case "latency":
		// Probes without an answer sort after every answered one.
		return func(a, b report.Row) int {
			switch {
			case a.ResponseLatencySeconds == nil && b.ResponseLatencySeconds == nil:
				return 0
			case a.ResponseLatencySeconds == nil:
				return 1
			case b.ResponseLatencySeconds == nil:
				return -1
			}
			return cmp.Compare(*a.ResponseLatencySeconds, *b.ResponseLatencySeconds)
		}
	}
	return func(a, b report.Row) int { return cmp.Compare(ptime(a.SentAt), ptime(b.SentAt)) }
}

func (h *Handler) vendor(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q := r.URL.Query()
	f := Filter{Status: q.Get("status"), Priority: q.Get("priority"), Script: q.Get("script"), Language: q.Get("language"),
		Sort: cmp.Or(q.Get("sort"), "sent"), Dir: cmp.Or(q.Get("dir"), "asc")}
	if !slices.Contains(sortKeys, f.Sort) {
		h.fail(w, r, fmt.Errorf("%w: sort %q: want one of %s", errBadRequest, f.Sort, strings.Join(sortKeys, ", ")))
		return
	}
	if f.Dir != "asc" && f.Dir != "desc" {
		h.fail(w, r, fmt.Errorf("%w: dir %q: want asc or desc", errBadRequest, f.Dir))
		return
	}
	per, ps, rep, err := h.build(r, name, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vp := VendorPage{Period: per, GeneratedAt: rep.GeneratedAt, Vendor: report.Vendor{Name: name}, Breaches: []report.Breach{},
		Filter: f, Probes: []report.Row{}, Total: len(rep.Probes)}
	if len(ps) == 0 {
		// A vendor with no probe in the period is shown empty; one never probed is unknown.
		all, err := h.db.Probes(store.Filter{Vendor: name})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(all) == 0 {
			h.fail(w, r, fmt.Errorf("%w: %q has no probe in the store; the overview lists the vendors probed", errNoVendor, name))
			return
		}
	}
	for _, v := range rep.Vendors {
		if v.Name == name {
			vp.Vendor = v
		}
	}
	vp.Zone = vp.Vendor.Hours.Zone
	for _, b := range rep.Breaches {
		if b.Vendor == name {
			vp.Breaches = append(vp.Breaches, b)
		}
	}
	seen := map[string]map[string]bool{"status": {}, "priority": {}, "script": {}, "language": {}}
	add := func(list *[]string, kind, v string) {
		if !seen[kind][v] {
			seen[kind][v] = true
			*list = append(*list, v)
		}
	}
	for _, row := range rep.Probes {
		add(&vp.Choices.Statuses, "status", string(row.Status))
		add(&vp.Choices.Priorities, "priority", string(row.Priority))
		add(&vp.Choices.Scripts, "script", row.Script)
		add(&vp.Choices.Languages, "language", row.Language)
		if (f.Status == "" || string(row.Status) == f.Status) && (f.Priority == "" || string(row.Priority) == f.Priority) &&
			(f.Script == "" || row.Script == f.Script) && (f.Language == "" || row.Language == f.Language) {
			vp.Probes = append(vp.Probes, row)
		}
	}
	for _, l := range [][]string{vp.Choices.Statuses, vp.Choices.Priorities, vp.Choices.Scripts, vp.Choices.Languages} {
		slices.Sort(l)
	}
	by := compareRows(f.Sort)
	slices.SortStableFunc(vp.Probes, func(a, b report.Row) int {
		c := by(a, b)
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if f.Dir == "desc" {
			return -c
		}
		return c
	})
	base := append(per.query(), "status", f.Status, "priority", f.Priority, "script", f.Script, "language", f.Language)
	for _, k := range sortKeys {
		dir, mark := "asc", ""
		if k == f.Sort {
			if f.Dir == "asc" {
				dir, mark = "desc", " ▲"
			} else {
				mark = " ▼"
			}
		}
		vp.Sorts = append(vp.Sorts, sortCol{Key: k, Label: map[string]string{"sent": "Sent", "id": "Probe", "priority": "Priority",
			"script": "Script", "language": "Language", "status": "Status", "sla": "SLA", "latency": "First response"}[k],
			Href: link(vendorPath(name), append(slices.Clone(base), "sort", k, "dir", dir)...), Mark: mark})
	}
	vp.Chart = chart(vp.Vendor.Latencies)
	vp.Heat = heat(vp.Vendor, h.opts.Now())
	h.respond(w, r, "vendor", "supportprobe: "+name, vp, nextChange(ps, rep.GeneratedAt))
}

// ProbePage is the probe page's model and its JSON form.
type ProbePage struct {
	// Probe is the probe as `show --format json` prints it (view.Record), with its
	// corrections by hand.
	Probe view.Record `json:"probe"`
	// Zone is the vendor's zone the page shows times in, beside UTC.
	Zone string `json:"zone"`
	// SLADeadline is when the SLA target passes (on the target's clock); null without
	// an SLA or before the inquiry was sent.
	SLADeadline *time.Time `json:"sla_deadline"`
	// Timeline is what happened to the probe, in time order.
	Timeline []Event `json:"timeline"`
	// Texts has the new text of each reply (quotes and signature left out), in the
	// order of Probe.Replies; null where the message is not stored.
	Texts []ReplyText `json:"texts"`
	// EvidenceHref is where the probe's signed evidence archive downloads from; "" when
	// the dashboard cannot sign one.
	EvidenceHref string `json:"evidence_href,omitempty"`
	// Decided is the decision just made on the page (?decided=REPLY after a POST),
	// with its audit entry; null otherwise.
	Decided *Decided `json:"-"`
}

// Decided is a reply just decided or linked on the page, as the probe page confirms it.
type Decided struct {
	ID    string
	Kind  probe.Kind
	Entry *probe.Correction // the latest audit entry about the reply
}

// Event is one entry of a probe's timeline. Mark is true for the limits (the SLA
// target and the deadline), which a page draws apart from what happened.
type Event struct {
	At      time.Time `json:"at"`
	What    string    `json:"what"`
	Detail  string    `json:"detail"`
	ReplyID string    `json:"reply_id,omitempty"`
	Mark    bool      `json:"mark"`
}

// ReplyText is the new text of one reply.
type ReplyText struct {
	ReplyID string  `json:"reply_id"`
	NewText *string `json:"new_text"`
}

// textLimit bounds the new text shown per reply on the probe page.
const textLimit = 20000

func (h *Handler) newText(id string, limit int) (*string, error) {
	raw, err := h.db.ReplyRaw(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read reply %s: %w", id, err)
	}
	return review.NewText(raw.Data, limit), nil
}

func (h *Handler) probe(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	p, err := h.db.Probe(id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("probe %q: %w; the vendor pages list the probes", id, err)
		}
		h.fail(w, r, err)
		return
	}
	now := h.opts.Now()
	rec, err := view.NewRecord(p, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rec.Corrections, err = h.db.Corrections(p.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	pp := ProbePage{Probe: rec, Zone: p.Terms.Hours.Zone, Timeline: []Event{}, Texts: []ReplyText{}}
	for _, rp := range rec.Replies {
		t, err := h.newText(rp.ID, textLimit)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		pp.Texts = append(pp.Texts, ReplyText{ReplyID: rp.ID, NewText: t})
	}
	if t := p.Terms.SLA; t != nil && !p.SentAt.IsZero() {
		at := p.SentAt.Add(t.FirstResponse)
		if t.Clock == probe.Business {
			bh, err := probe.NewBusinessHours(p.Terms.Hours)
			if err != nil {
				h.fail(w, r, fmt.Errorf("probe %s: business hours: %w", p.ID, err))
				return
			}
			at = bh.Add(p.SentAt, t.FirstResponse)
		}
		at = at.UTC()
		pp.SLADeadline = &at
	}
	pp.Timeline = timeline(rec, pp.SLADeadline)
	if h.opts.Evidence != nil {
		pp.EvidenceHref = probePath(p.ID) + "/evidence.zip"
	}
	if id := r.URL.Query().Get("decided"); id != "" {
		for _, rp := range p.Replies {
			if rp.ID == id {
				dd := &Decided{ID: id, Kind: rp.EffectiveKind()}
				for i := range rec.Corrections {
					if rec.Corrections[i].Reply == id {
						dd.Entry = &rec.Corrections[i]
					}
				}
				pp.Decided = dd
			}
		}
	}
	h.respond(w, r, "probe", "supportprobe: probe "+p.ID, pp, nextChange([]probe.Probe{p}, now))
}

// timeline lists what happened to the probe of rec, in time order (equal times in the
// order they are added: the cause before the effect).
func timeline(rec view.Record, slaDeadline *time.Time) []Event {
	var ev []Event
	add := func(at *time.Time, e Event) {
		if at != nil {
			e.At = *at
			ev = append(ev, e)
		}
	}
	add(rec.ScheduledAt, Event{What: "scheduled", Detail: "script " + rec.Script + ", " + string(rec.Priority)})
	sent := "accepted by the SMTP server (250 after DATA)"
	if rec.SentAtInferred {
		sent = "inferred: a reply proved it went out"
	}
	add(rec.SentAt, Event{What: "sent", Detail: sent})
	if rec.FirstSignOfLifeAt != nil {
		add(rec.FirstSignOfLifeAt, Event{What: "first sign of life", Detail: "after " + view.Duration(rec.SignOfLifeLatencySeconds)})
	}
	for _, rp := range rec.Replies {
		d := fmt.Sprintf("%s, matched by %s", rp.Kind, rp.MatchedBy)
		if rp.Confidence != nil {
			d += fmt.Sprintf(", confidence %.2f", *rp.Confidence)
		}
		if rp.Reason != "" {
			d += ": " + rp.Reason
		}
		if rp.Auth != nil {
			d += "; " + rp.DKIM
		}
		if rp.Override != nil {
			d += " (decided by hand"
			if rp.Override.Note != "" {
				d += ": " + rp.Override.Note
			}
			d += ")"
		}
		if rp.Late {
			d += "; late: after the deadline, never an answer"
		}
		if rp.Early {
			d += "; before the inquiry was sent: counts for nothing"
		}
		add(&rp.ReceivedAt, Event{What: "reply " + rp.ID, Detail: d, ReplyID: rp.ID})
	}
	for _, f := range rec.Followups {
		d := fmt.Sprintf("follow-up %d (%s): %s", f.Index+1, f.Kind, f.State)
		if f.Reason != nil {
			d += ": " + *f.Reason
		}
		if f.NextResponseAt != nil {
			d += ", next human reply after " + view.Duration(f.NextResponseLatencySeconds)
		}
		at := f.SentAt
		if at == nil {
			at = f.DueAt
		}
		add(at, Event{What: "follow-up", Detail: d})
	}
	if slaDeadline != nil {
		d := "SLA target " + view.Duration(rec.SLATargetSeconds)
		if rec.SLAClock != nil {
			d += " (" + string(*rec.SLAClock) + " time)"
		}
		add(slaDeadline, Event{What: "SLA target passes", Detail: d + "; state " + string(rec.SLA), Mark: true})
	}
	add(rec.Deadline, Event{What: "deadline", Detail: "a person's reply after it is late and never an answer; none by it: unanswered", Mark: true})
	slices.SortStableFunc(ev, func(a, b Event) int { return a.At.Compare(b.At) })
	return ev
}

// ReviewItem is one reply waiting for a person's decision, as `review --format json`
// lists it (review.Item: both are built by review.Items).
type ReviewItem = review.Item

// reviewItems lists what waits for review on probes created in the last ReviewDays.
func (h *Handler) reviewItems() ([]ReviewItem, error) {
	now := h.opts.Now()
	ps, err := h.db.Probes(store.Filter{Since: now.AddDate(0, 0, -ReviewDays)})
	if err != nil {
		return nil, err
	}
	return review.Items(ps, review.StoredRaw(h.db.ReplyRaw), now)
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request) {
	items, err := h.reviewItems()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.respond(w, r, "review", "supportprobe: review", items, time.Time{})
}

func (h *Handler) unmatched(w http.ResponseWriter, r *http.Request) {
	now := h.opts.Now()
	um, err := h.db.UnmatchedMail(now.AddDate(0, 0, -UnmatchedDays), time.Time{})
	if err != nil {
		h.fail(w, r, fmt.Errorf("read unmatched mail: %w", err))
		return
	}
	if um == nil {
		um = []store.Unmatched{}
	}
	h.respond(w, r, "unmatched", "supportprobe: unmatched mail", um, time.Time{})
}

// evidence answers GET /probes/{id}/evidence.zip with the probe's signed evidence
// archive (Options.Evidence), built in memory first so that an error is a clean page.
func (h *Handler) evidence(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if h.opts.Evidence == nil {
		h.fail(w, r, fmt.Errorf("%w: this dashboard cannot sign archives; use `supportprobe export --probe %s --out %s.zip`", store.ErrNotFound, id, id))
		return
	}
	if _, err := h.db.Probe(id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("probe %q: %w; the vendor pages list the probes", id, err)
		}
		h.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := h.opts.Evidence(r.Context(), id, &buf); err != nil {
		h.fail(w, r, fmt.Errorf("write the evidence archive of probe %s: %w", id, err))
		return
	}
	setSecurityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "supportprobe-evidence-" + id + ".zip"}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if _, err := w.Write(buf.Bytes()); err != nil {
		h.opts.Log.Debug("dashboard: write evidence archive", "probe", id, "err", err)
	}
}

// pauseStore is implemented by *store.DB: the pauses set by hand, used when
// Options.Pauses is nil.
type pauseStore interface {
	Pauses(vendor string, since, until time.Time) ([]probe.Pause, error)
}

// pausesNow returns, by vendor, the pauses in force now (Options.Pauses, else those
// set by hand in the store).
func (h *Handler) pausesNow() (map[string][]probe.Pause, error) {
	get := h.opts.Pauses
	if get == nil {
		ps, ok := h.db.(pauseStore)
		if !ok {
			return nil, nil
		}
		get = ps.Pauses
	}
	now := h.opts.Now()
	all, err := get("", now, now.Add(time.Nanosecond))
	if err != nil {
		return nil, fmt.Errorf("read the pauses: %w", err)
	}
	out := map[string][]probe.Pause{}
	for _, p := range all {
		out[p.Vendor] = append(out[p.Vendor], p)
	}
	return out, nil
}
