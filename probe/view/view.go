// Package view turns probes into what the CLI prints: the history records whose JSON
// form is a contract with scripts (field names never change meaning), tables for people,
// CSV for spreadsheets, and the thread of one probe.
package view

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"supportprobe/probe"
)

// Record is one probe as `history --format json` prints it. Times are RFC 3339 in UTC;
// absent values are null. Latencies are seconds, to the millisecond.
type Record struct {
	ID          string         `json:"id"`
	Vendor      string         `json:"vendor"`
	Script      string         `json:"script"`
	Priority    probe.Priority `json:"priority"`
	Language    string         `json:"language"`
	To          []string       `json:"to"`
	Subject     string         `json:"subject"`
	Token       string         `json:"token"`
	ScheduledAt *time.Time     `json:"scheduled_at"`
	SentAt      *time.Time     `json:"sent_at"`
	// SentAtInferred is true when no 250 was recorded (a crash came first) and a reply
	// citing the probe proved it went out: SentAt is then the last moment known before
	// the end of DATA, and latencies count from it (FailReason says which reply proved it).
	SentAtInferred bool `json:"sent_at_inferred"`
	// LateBySeconds is how late a fire missed while the daemon was down went out.
	LateBySeconds    *float64     `json:"late_by_seconds"`
	MessageID        *string      `json:"message_id"`
	Status           probe.Status `json:"status"`
	FailReason       *string      `json:"fail_reason"`
	AfterHours       *bool        `json:"after_hours"`
	Deadline         *time.Time   `json:"deadline"`
	ClockSkewSeconds *float64     `json:"clock_skew_seconds"`
	// FirstAckAt and AckLatencySeconds are the first automatic acknowledgement by the
	// deadline; FirstSignOfLifeAt and SignOfLifeLatencySeconds the first automatic
	// acknowledgement or person's reply, whichever came first (the ack figure).
	FirstAckAt               *time.Time `json:"first_ack_at"`
	AckLatencySeconds        *float64   `json:"ack_latency_seconds"`
	FirstSignOfLifeAt        *time.Time `json:"first_sign_of_life_at"`
	SignOfLifeLatencySeconds *float64   `json:"sign_of_life_latency_seconds"`
	// FirstResponseAt and the latencies are the first person's reply by the deadline;
	// LateResponseAt is the first person's reply after it, when none came by it: shown,
	// never an answer.
	LateResponseAt         *time.Time     `json:"late_response_at"`
	FirstResponseAt        *time.Time     `json:"first_response_at"`
	ResponseLatencySeconds *float64       `json:"response_latency_seconds"`
	BusinessLatencySeconds *float64       `json:"business_latency_seconds"`
	SLA                    probe.SLAState `json:"sla"`
	SLATargetSeconds       *float64       `json:"sla_target_seconds"`
	SLAClock               *probe.Clock   `json:"sla_clock"`
	// VendorZone is the vendor's time zone when the probe was created (its business
	// hours' zone); show and the history table print times on its clock beside UTC.
	VendorZone string `json:"vendor_zone"`
	// ReplyLanguage is the detected language of the first human reply's new text, and
	// LanguageMatch whether it is the language asked (probe.LanguageMatches); both are
	// null when no person replied or the reply's language is unknown, and LanguageMatch
	// also when the script declares no language.
	ReplyLanguage *string       `json:"reply_language"`
	LanguageMatch *bool         `json:"language_match"`
	Replies       []ReplyRecord `json:"replies"`
	// Followups are the script's follow-ups recorded for the probe, in the order they
	// fired; NeededReminder is whether a reminder was sent.
	Followups      []FollowupRecord `json:"followups"`
	NeededReminder bool             `json:"needed_reminder"`
	// Corrections are the corrections by hand (mark, link) that concern this probe,
	// oldest first, from the audit trail; `show` fills them in, history leaves them out.
	Corrections []probe.Correction `json:"corrections,omitempty"`
}

// FollowupRecord is one follow-up inside a Record. NextResponseAt is the first human
// reply that arrived after the follow-up was sent, and NextResponseLatencySeconds its
// delay from the follow-up's sent_at, skew-corrected like the other latencies; both
// null while none has. State is sent, sending, failed, unknown or skipped (Reason says
// why for the last three).
type FollowupRecord struct {
	// Index is the follow-up's position in its script's list.
	Index                      int                `json:"index"`
	Kind                       probe.FollowupKind `json:"kind"`
	State                      probe.State        `json:"state"`
	DueAt                      *time.Time         `json:"due_at"`
	SentAt                     *time.Time         `json:"sent_at"`
	MessageID                  *string            `json:"message_id"`
	InReplyTo                  *string            `json:"in_reply_to"`
	Reason                     *string            `json:"reason"`
	NextResponseAt             *time.Time         `json:"next_response_at"`
	NextResponseLatencySeconds *float64           `json:"next_response_latency_seconds"`
}

// ReplyRecord is one reply inside a Record.
type ReplyRecord struct {
	ID         string     `json:"id"`
	MessageID  string     `json:"message_id"`
	ReceivedAt time.Time  `json:"received_at"`
	DetectedAt *time.Time `json:"detected_at"`
	HeaderDate *time.Time `json:"header_date"`
	From       string     `json:"from"`
	Subject    string     `json:"subject"`
	Kind       probe.Kind `json:"kind"`
	MatchedBy  probe.Rung `json:"matched_by"`
	// MatchDetail is the evidence the rung found.
	MatchDetail string `json:"match_detail"`
	Reason      string `json:"reason"`
	// Confidence is the classifier's confidence in its kind, in [0,1]; null for a reply
	// recorded before confidence was kept.
	Confidence *float64 `json:"confidence"`
	Late       bool     `json:"late"`
	// Early is true for a reply that arrived before the inquiry was sent (beyond
	// probe.ArrivalTolerance): it counts for nothing.
	Early    bool            `json:"early"`
	Override *probe.Override `json:"override"`
	// Language is the detected language of the reply's new text; null when unknown.
	Language *string `json:"language"`
	// DKIM is the one-line result of the reply's DKIM check ("DKIM pass,
	// d=acme.example"), and Auth the check itself; Auth is null for a reply not checked.
	DKIM string      `json:"dkim"`
	Auth *probe.Auth `json:"auth"`
}

func utc(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func seconds(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	s := math.Round(d.Seconds()*1000) / 1000
	return &s
}

func ptr[T any](v T) *T { return &v }

// NewRecord measures p as of now and returns its record. A reply's Kind is its
// effective kind (the override, when a person set one); the classifier's own verdict
// stays visible in Reason and Override.
func NewRecord(p probe.Probe, now time.Time) (Record, error) {
	m, err := probe.Measure(p, now)
	if err != nil {
		return Record{}, err
	}
	r := Record{
		ID: p.ID, Vendor: p.Vendor, Script: p.Script, Priority: p.Priority, Language: p.Language,
		To: p.To, Subject: p.Subject, Token: p.Token,
		ScheduledAt: utc(p.ScheduledAt), SentAt: utc(p.SentAt), SentAtInferred: p.SentAtInferred,
		Status: m.Status, SLA: m.SLA, Replies: []ReplyRecord{}, Followups: []FollowupRecord{},
		NeededReminder: p.NeededReminder(), VendorZone: p.Terms.Hours.Zone,
	}
	for _, fm := range probe.MeasureFollowups(p) {
		f := fm.Followup
		fr := FollowupRecord{Index: f.Index, Kind: f.Kind, State: f.State, DueAt: utc(f.DueAt), SentAt: utc(f.SentAt)}
		if f.MessageID != "" {
			fr.MessageID = ptr(f.MessageID)
		}
		if f.InReplyTo != "" {
			fr.InReplyTo = ptr(f.InReplyTo)
		}
		if f.Reason != "" {
			fr.Reason = ptr(f.Reason)
		}
		if fm.NextResponse != nil {
			fr.NextResponseAt = utc(fm.NextResponse.ReceivedAt)
			fr.NextResponseLatencySeconds = seconds(fm.NextLatency)
		}
		r.Followups = append(r.Followups, fr)
	}
	if r.To == nil {
		r.To = []string{}
	}
	if p.MessageID != "" {
		r.MessageID = ptr(p.MessageID)
	}
	if p.LateBy > 0 {
		r.LateBySeconds = seconds(ptr(p.LateBy))
	}
	if p.FailReason != "" {
		r.FailReason = ptr(p.FailReason)
	}
	if !p.SentAt.IsZero() {
		r.AfterHours = ptr(m.AfterHours)
		r.Deadline = utc(m.Deadline)
	}
	if p.SkewMeasured {
		r.ClockSkewSeconds = seconds(ptr(p.ClockSkew))
	}
	if t := p.Terms.SLA; t != nil {
		r.SLATargetSeconds = seconds(ptr(t.FirstResponse))
		r.SLAClock = ptr(t.Clock)
	}
	if m.FirstAck != nil {
		r.FirstAckAt = utc(m.FirstAck.ReceivedAt)
		r.AckLatencySeconds = seconds(m.AckLatency)
	}
	if m.FirstSignOfLife != nil {
		r.FirstSignOfLifeAt = utc(m.FirstSignOfLife.ReceivedAt)
		r.SignOfLifeLatencySeconds = seconds(m.SignOfLifeLatency)
	}
	if m.LateResponse != nil {
		r.LateResponseAt = utc(m.LateResponse.ReceivedAt)
	}
	if m.FirstResponse != nil {
		r.FirstResponseAt = utc(m.FirstResponse.ReceivedAt)
		r.ResponseLatencySeconds = seconds(m.ResponseLatency)
		r.BusinessLatencySeconds = seconds(m.BusinessLatency)
		if l := m.FirstResponse.Language; l != "" {
			r.ReplyLanguage = ptr(l)
			if p.Language != "" {
				r.LanguageMatch = ptr(probe.LanguageMatches(p.Language, l))
			}
		}
	}
	replies := slices.Clone(p.Replies)
	slices.SortStableFunc(replies, func(a, b probe.Reply) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	for _, rp := range replies {
		var lang *string
		if rp.Language != "" {
			lang = ptr(rp.Language)
		}
		r.Replies = append(r.Replies, ReplyRecord{
			ID: rp.ID, MessageID: rp.MessageID, ReceivedAt: rp.ReceivedAt.UTC(),
			DetectedAt: utc(rp.DetectedAt), HeaderDate: utc(rp.HeaderDate),
			From: rp.From, Subject: rp.Subject, Kind: rp.EffectiveKind(),
			MatchedBy: rp.MatchedBy, MatchDetail: rp.MatchDetail, Reason: rp.Reason, Confidence: confidence(rp.Confidence), Late: p.IsLate(rp), Early: p.IsEarly(rp), Override: rp.Override,
			Language: lang, DKIM: rp.Auth.Summary(), Auth: rp.Auth,
		})
	}
	return r, nil
}

// Records measures every probe as of now.
func Records(ps []probe.Probe, now time.Time) ([]Record, error) {
	out := make([]Record, 0, len(ps))
	for _, p := range ps {
		r, err := NewRecord(p, now)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// WriteJSON writes records as one indented JSON array ("[]" when empty).
func WriteJSON(w io.Writer, rs []Record) error {
	if rs == nil {
		rs = []Record{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}

// csvHeader is the CSV column order; it is part of the contract, so columns are only
// ever appended.
var csvHeader = []string{
	"id", "vendor", "script", "priority", "language", "to", "scheduled_at", "sent_at",
	"message_id", "status", "after_hours", "first_ack_at", "ack_latency_seconds",
	"first_response_at", "response_latency_seconds", "business_latency_seconds", "sla",
	"replies", "first_sign_of_life_at", "sign_of_life_latency_seconds", "late_response_at",
}

// WriteCSV writes records with a header row; absent values are empty cells.
func WriteCSV(w io.Writer, rs []Record) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, r := range rs {
		cw.Write([]string{
			r.ID, r.Vendor, r.Script, string(r.Priority), r.Language, strings.Join(r.To, " "),
			TimeCell(r.ScheduledAt), TimeCell(r.SentAt), strCell(r.MessageID), string(r.Status),
			BoolCell(r.AfterHours), TimeCell(r.FirstAckAt), NumCell(r.AckLatencySeconds),
			TimeCell(r.FirstResponseAt), NumCell(r.ResponseLatencySeconds),
			NumCell(r.BusinessLatencySeconds), string(r.SLA), strconv.Itoa(len(r.Replies)),
			TimeCell(r.FirstSignOfLifeAt), NumCell(r.SignOfLifeLatencySeconds), TimeCell(r.LateResponseAt),
		})
	}
	cw.Flush()
	return cw.Error()
}

// TimeCell formats an optional time for a CSV cell: RFC 3339 UTC, or empty.
func TimeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

func strCell(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// BoolCell formats an optional bool for a CSV cell, empty when absent.
func BoolCell(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// NumCell formats an optional number for a CSV cell, empty when absent.
func NumCell(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// Duration formats a latency for people: "45s", "3m20s", "2h05m", "3d04h"; "-" for
// none. It is the one rounding rule for every latency a person reads (history, show,
// the reports, the summary mail): the exact value is rounded half up to the smallest
// unit shown, so 2h05m40s reads "2h06m" and 23h59m40s "1d00h", never truncated. A
// negative value gets a leading "-".
func Duration(secs *float64) string {
	if secs == nil {
		return "-"
	}
	d := time.Duration(math.Round(*secs * float64(time.Second)))
	if d < 0 {
		v := -*secs
		return "-" + Duration(&v)
	}
	if s := d.Round(time.Second); s < time.Hour {
		if s < time.Minute {
			return fmt.Sprintf("%ds", int(s.Seconds()))
		}
		return fmt.Sprintf("%dm%02ds", int(s.Minutes()), int(s.Seconds())%60)
	}
	if m := d.Round(time.Minute); m < 24*time.Hour {
		return fmt.Sprintf("%dh%02dm", int(m.Hours()), int(m.Minutes())%60)
	}
	h := d.Round(time.Hour)
	return fmt.Sprintf("%dd%02dh", int(h.Hours())/24, int(h.Hours())%24)
}

// WriteTable writes records as an aligned table for a terminal, times in UTC.
func WriteTable(w io.Writer, rs []Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVENDOR\tSCRIPT\tPRI\tSENT (UTC)\tVENDOR'S TIME\tSTATUS\tACK\tRESPONSE\tBUSINESS\tSLA\tREPLIES (kind/rung)")
	for _, r := range rs {
		sent, local := "-", "-"
		if r.SentAt != nil {
			local = r.VendorTime(*r.SentAt, "Mon 15:04 MST")
			sent = r.SentAt.Format("2006-01-02 15:04")
			if r.AfterHours != nil && *r.AfterHours {
				sent += "*"
			}
		}
		var replies []string
		for _, rp := range r.Replies {
			replies = append(replies, string(rp.Kind)+"/"+string(rp.MatchedBy))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Vendor, r.Script, r.Priority,
			sent, local, r.Status, Duration(r.AckLatencySeconds), Duration(r.ResponseLatencySeconds),
			Duration(r.BusinessLatencySeconds), r.SLA, orDash(strings.Join(replies, " ")))
	}
	if len(rs) == 0 {
		fmt.Fprintln(tw, "(no probes)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rs) > 0 {
		_, err := fmt.Fprintln(w, "* sent outside the vendor's business hours")
		return err
	}
	return nil
}

// VendorTime formats t on the vendor's clock (VendorZone) with layout; "" when the
// zone is not known.
func (r Record) VendorTime(t time.Time, layout string) string {
	if r.VendorZone == "" {
		return ""
	}
	loc, err := probe.LoadZone(r.VendorZone)
	if err != nil {
		return ""
	}
	return t.In(loc).Format(layout)
}

// WriteThread writes one probe and its replies in time order, for `show`: times in UTC,
// each with the vendor's wall clock beside it.
func WriteThread(w io.Writer, r Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// at formats an optional time in UTC with the vendor's clock: "2026-11-24T11:00:00Z
	// (Tue 24 Nov 03:00 PST)"; "-" for none.
	at := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		if l := r.VendorTime(*t, "Mon 2 Jan 15:04 MST"); l != "" {
			return TimeCell(t) + " (" + l + ")"
		}
		return TimeCell(t)
	}
	// stamp is at for the timeline: the vendor's clock without the date.
	stamp := func(t time.Time) string {
		if l := r.VendorTime(t, "Mon 15:04 MST"); l != "" {
			return t.Format(time.RFC3339) + " (" + l + ")"
		}
		return t.Format(time.RFC3339)
	}
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("Probe", r.ID)
	row("Vendor", r.Vendor)
	row("Script", fmt.Sprintf("%s (%s, %s)", r.Script, r.Priority, r.Language))
	row("To", strings.Join(r.To, ", "))
	row("Subject", r.Subject)
	row("Token", r.Token)
	row("Message-ID", strCell(r.MessageID))
	if r.VendorZone != "" {
		row("Vendor's zone", r.VendorZone+" (times below: UTC, then the vendor's clock)")
	}
	row("Scheduled", at(r.ScheduledAt))
	sent := at(r.SentAt)
	if r.SentAtInferred {
		sent += ", inferred: the last moment known before the end of DATA; a reply citing the probe proves it went out"
	}
	row("Sent", sent)
	row("Status", string(r.Status))
	if r.FailReason != nil {
		row("Reason", *r.FailReason)
	}
	if r.AfterHours != nil {
		row("After hours", strconv.FormatBool(*r.AfterHours))
	}
	row("Deadline", at(r.Deadline))
	after := func(t *time.Time, latency string) string {
		if t == nil {
			return "-"
		}
		return at(t) + ", after " + latency
	}
	row("First ack", after(r.FirstAckAt, Duration(r.AckLatencySeconds)))
	row("First sign of life", after(r.FirstSignOfLifeAt, Duration(r.SignOfLifeLatencySeconds)))
	row("First response", after(r.FirstResponseAt, fmt.Sprintf("%s (business time %s)", Duration(r.ResponseLatencySeconds), Duration(r.BusinessLatencySeconds))))
	if r.LateResponseAt != nil {
		row("Late reply", at(r.LateResponseAt)+", after the deadline: not an answer")
	}
	sla := string(r.SLA)
	if r.SLA == probe.SLAUndecided {
		sla += ": the deadline came before the target could pass"
	}
	if r.SLATargetSeconds != nil {
		sla += fmt.Sprintf(" (target %s, %s clock)", Duration(r.SLATargetSeconds), *r.SLAClock)
	}
	row("SLA", sla)
	if len(r.Followups) > 0 {
		row("Needed a reminder", strconv.FormatBool(r.NeededReminder))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThread (%s, %s), in time order:\n", plural(len(r.Replies), "reply", "replies"), plural(len(r.Followups), "follow-up", "follow-ups"))
	// One timeline: our inquiry, the vendor's replies and our follow-ups, by time (a
	// follow-up not sent sits at the time it was due). Latencies count from the inquiry
	// for replies, and from a follow-up for its next response.
	type event struct {
		at    time.Time
		write func()
	}
	var events []event
	if r.SentAt != nil {
		events = append(events, event{*r.SentAt, func() {
			inferred := ""
			if r.SentAtInferred {
				inferred = "  (sent_at inferred)"
			}
			fmt.Fprintf(w, "  %s  inquiry  sent  %s%s\n", stamp(*r.SentAt), strCell(r.MessageID), inferred)
		}})
	}
	for _, rp := range r.Replies {
		events = append(events, event{rp.ReceivedAt, func() {
			late := ""
			switch {
			case rp.Late:
				late = " LATE (after the deadline: not an answer)"
			case rp.Early:
				late = " EARLY (arrived before the inquiry was sent: not an answer)"
			}
			after := ""
			// On our clock, as the latencies are: the server's arrival time less the
			// measured skew, so the offset of the first answer reads as its latency.
			arrived := rp.ReceivedAt
			if r.ClockSkewSeconds != nil {
				arrived = arrived.Add(-time.Duration(*r.ClockSkewSeconds * float64(time.Second)))
			}
			switch d := 0.0; {
			case r.SentAt == nil:
			case rp.Early:
				d = r.SentAt.Sub(arrived).Seconds()
				after = "  -" + Duration(&d)
			default:
				d = max(arrived.Sub(*r.SentAt), 0).Seconds()
				after = "  +" + Duration(&d)
			}
			fmt.Fprintf(w, "  %s  %s  %s%s%s  matched by %s", stamp(rp.ReceivedAt), rp.ID, rp.Kind, late, after, rp.MatchedBy)
			if rp.MatchDetail != "" {
				fmt.Fprintf(w, " (%s)", rp.MatchDetail)
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "      From: %s\n      Subject: %s\n      Why: %s\n", Clean(Sender(rp.From, false)), Clean(rp.Subject), rp.Reason)
			if rp.DKIM != "" {
				fmt.Fprintf(w, "      Authenticity: %s\n", Clean(rp.DKIM))
			}
			if rp.Auth != nil && rp.Auth.AuthenticationResults != "" {
				fmt.Fprintf(w, "      Authentication-Results: %s\n", Clean(rp.Auth.AuthenticationResults))
			}
			if rp.Override != nil {
				fmt.Fprintf(w, "      Set by hand at %s: %s\n", rp.Override.At.UTC().Format(time.RFC3339), rp.Override.Note)
			}
		}})
	}
	for _, f := range r.Followups {
		at := f.SentAt
		if at == nil {
			at = f.DueAt
		}
		if at == nil {
			at = &time.Time{}
		}
		events = append(events, event{*at, func() {
			fmt.Fprintf(w, "  %s  follow-up  %s  %s", stamp(*at), f.Kind, f.State)
			if f.MessageID != nil {
				fmt.Fprintf(w, "  %s", *f.MessageID)
			}
			fmt.Fprintln(w)
			if f.Reason != nil {
				fmt.Fprintf(w, "      Why: %s\n", *f.Reason)
			}
			if f.State == probe.StateSent {
				fmt.Fprintf(w, "      Next response: %s (%s)\n", orDash(TimeCell(f.NextResponseAt)), Duration(f.NextResponseLatencySeconds))
			}
		}})
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	for _, e := range events {
		e.write()
	}
	WriteCorrections(w, r.ID, r.Corrections)
	return nil
}

// WriteCorrections writes the "Corrections by hand" section of probe id's thread: each
// mark and link that concerns it, with who, when, the note, and what moved.
func WriteCorrections(w io.Writer, id string, cs []probe.Correction) {
	if len(cs) == 0 {
		fmt.Fprintf(w, "\nCorrections by hand: none\n")
		return
	}
	fmt.Fprintf(w, "\nCorrections by hand (%d), oldest first:\n", len(cs))
	for _, c := range cs {
		by := c.By
		if by == "" {
			by = "someone (not recorded)"
		}
		var what string
		switch c.Action {
		case probe.CorrectionMark:
			what = fmt.Sprintf("marked %s %s (was %s)", c.Reply, c.KindAfter, c.KindBefore)
		case probe.CorrectionLink:
			from := "unmatched mail " + c.WasID
			if c.FromProbe != "" {
				from = fmt.Sprintf("reply %s of probe %s", c.WasID, c.FromProbe)
			}
			dir := "linked here"
			if c.FromProbe == id && c.ToProbe != id {
				dir = "moved away to probe " + c.ToProbe
			}
			what = fmt.Sprintf("%s: %s, now reply %s of probe %s", dir, from, c.Reply, c.ToProbe)
		default:
			what = c.Action
		}
		fmt.Fprintf(w, "  %s  %s  by %s: %s\n", c.At.UTC().Format(time.RFC3339), c.ID, by, what)
		if c.MessageID != "" {
			fmt.Fprintf(w, "      Message-ID: <%s>\n", strings.Trim(c.MessageID, "<>"))
		}
		if c.Note != "" {
			fmt.Fprintf(w, "      Note: %s\n", c.Note)
		}
		list := func(label string, xs []string) {
			if len(xs) > 0 {
				fmt.Fprintf(w, "      %s: %s\n", label, strings.Join(xs, ", "))
			}
		}
		list("Thread IDs moved from "+c.FromProbe, c.MovedThreadIDs)
		list("Thread IDs added", c.AddedThreadIDs)
		list("Ticket keys of "+c.TicketVendor+" moved from "+c.FromProbe, c.MovedTicketKeys)
		list("Ticket keys of "+c.TicketVendor+" added", c.AddedTicketKeys)
		for _, k := range c.Kept {
			fmt.Fprintf(w, "      Left in place: %s\n", k)
		}
		if c.Forced != "" {
			fmt.Fprintf(w, "      FORCED: %s\n", c.Forced)
		}
	}
}

// plural formats a count and a noun: "1 reply", "3 replies".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// confidence is c for a view, nil for 0: a reply stored before confidence was kept.
func confidence(c float64) *float64 {
	if c == 0 {
		return nil
	}
	return &c
}
