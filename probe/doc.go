// Package probe is supportprobe's domain: vendors and their promises (business hours,
// SLA targets, deadlines), scripted inquiries, probes, the replies that answer them, and
// the figures measured from both.
//
// # The instrument
//
// A probe is one inquiry sent to one vendor. Its clock starts at SentAt, the instant the
// SMTP server accepted the message (the 250 after DATA), on our clock. A reply's
// ReceivedAt is the IMAP server's INTERNALDATE, never the sender-controlled Date header
// (kept as HeaderDate), and DetectedAt records when we saw it, so polling or reconnect
// delays never leak into a latency. The measured skew between our clock and the IMAP
// server's (ClockSkew, server minus ours) is subtracted from every ReceivedAt before
// latencies are taken, so both ends are on our time base.
//
//   - time to first ack: first auto_ack reply's ReceivedAt − SentAt
//   - time to first response (the headline): first human reply's ReceivedAt − SentAt, in
//     calendar time and in the vendor's business time (its zone, weekly hours, holidays)
//   - after-hours: the probe was sent outside the vendor's business hours
//   - deadline: a probe without a human reply by SentAt+Deadline is unanswered
//     (right-censored there); a later reply is still recorded and flagged late
//   - SLA: met, breached, open, or open_breached against the vendor's target for the
//     probe's priority, in calendar or business time
//
// Measure derives all of these from a Probe and its Vendor; nothing derived is stored,
// so a manual correction of a reply's kind recomputes every figure.
//
// # Dependencies
//
// probe imports none of mailbox, store, schedule or configs. It declares the small
// interfaces it needs and those packages implement them.
package probe
