package probe

import (
	"fmt"
	"time"
)

// Sending interrupted by a crash
//
// A probe is stored before SMTP and marked sent after the server's 250; a crash in
// between leaves it in StateSending. Just before the final "." of DATA the daemon notes
// StageDataEnd and DataEndAt durably, so at the next start:
//
//   - no Message-ID, or Stage StageBeforeDataEnd: no server can have accepted the
//     inquiry (a message is only accepted after its final "."), so the probe is failed
//     with ReasonCrashedBeforeDataEnd and never counts;
//   - Stage StageDataEnd, or "" (stored by a version that did not note it): the server
//     may have accepted it. A copy in the sent folder makes it sent; otherwise it is
//     unknown, which counts in no figure.
//
// Nothing is ever sent again: a duplicate would spoil the measurement and tell the vendor
// it is being measured. An unknown probe becomes sent when a reply proves it went out:
// one that cites it by our Message-ID, its plus-address or its token (ProvesSent), none
// of which the vendor could know without the inquiry. Its sent_at is then DataEndAt, the
// last moment known before the server took the message, marked SentAtInferred; the
// latencies measured from it are at most the server's answer time to the final "."
// longer than the truth (never shorter: no made-up speed for the vendor).

// ReasonCrashedBeforeDataEnd is the FailReason of a probe a crash stopped before the final
// "." of DATA was written.
const ReasonCrashedBeforeDataEnd = "crashed before the end of DATA; not sent again"

// CertainlyNotSent reports whether p, left in StateSending by a crash, certainly reached no
// SMTP server, and why: it never got a Message-ID (it was never composed), or it was
// stored with its stage and the end of DATA was never noted. It is false for a probe in
// any other state, and for one that may have gone out.
func CertainlyNotSent(p Probe) (reason string, ok bool) {
	switch {
	case p.State != StateSending:
		return "", false
	case p.MessageID == "":
		return "interrupted before the inquiry reached SMTP", true
	case p.Stage == StageBeforeDataEnd:
		return ReasonCrashedBeforeDataEnd, true
	}
	return "", false
}

// ProvesSent reports whether a reply matched at rung proves that the probe's inquiry
// reached the vendor: our own Message-ID cited (RungMessageID), mail to the probe's
// plus-address (RungPlusAddress), or the probe's token quoted (RungToken). A thread ID,
// a ticket key or a person's link only say which probe the mail is about, not that the
// inquiry itself was delivered.
func ProvesSent(rung Rung) bool {
	switch rung {
	case RungMessageID, RungPlusAddress, RungToken:
		return true
	}
	return false
}

// Promote makes p, an unknown probe, sent on the evidence of r, a reply matched to it;
// it reports whether it did. It does nothing unless p is StateUnknown, r belongs to p and
// ProvesSent(r.MatchedBy). SentAt becomes DataEndAt (or, for a probe stored without its
// stage, CreatedAt, an earlier bound), SentAtInferred is set, and FailReason says what
// proved it and from when latencies count.
func (p *Probe) Promote(r Reply) bool {
	if p.State != StateUnknown || r.ProbeID != p.ID || !ProvesSent(r.MatchedBy) {
		return false
	}
	bound, what := p.DataEndAt, "the last moment known before the end of DATA"
	if bound.IsZero() {
		bound, what = p.CreatedAt, "when the probe was created (its end of DATA was not noted)"
	}
	p.State, p.SentAt, p.SentAtInferred = StateSent, bound.UTC(), true
	p.FailReason = fmt.Sprintf("a crash kept the server's 250 from being recorded; reply %s (matched by %s) proves the inquiry went out; sent_at is %s, %s",
		r.ID, r.MatchedBy, what, bound.UTC().Format(time.RFC3339Nano))
	return true
}
