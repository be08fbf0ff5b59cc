package probe

import "time"

// The actions a Correction records.
const (
	CorrectionMark = "mark" // a person decided a reply's kind
	CorrectionLink = "link" // a person tied a message to a probe
)

// Correction is the audit record of one correction by hand (`supportprobe mark` or
// `supportprobe link`): who made it and when, why, and exactly what it changed, so a
// figure that rests on a person's decision can be traced to that decision.
type Correction struct {
	// ID is the record's id ("A3"), in the order the corrections were made.
	ID     string    `json:"id"`
	Action string    `json:"action"` // CorrectionMark or CorrectionLink
	At     time.Time `json:"at"`
	// By is the local user name of whoever ran the command; "" when not known.
	By   string `json:"by,omitempty"`
	Note string `json:"note,omitempty"`
	// MessageID is the corrected mail's Message-ID.
	MessageID string `json:"message_id,omitempty"`
	// Reply is the reply's id after the correction; WasID its id before a link (an "R"
	// reply of FromProbe, or a "U" unmatched mail).
	Reply string `json:"reply"`
	WasID string `json:"was_id,omitempty"`
	// FromProbe is the probe the reply belonged to before ("" for unmatched mail);
	// ToProbe the probe it belongs to after. A mark changes no probe: both are its probe.
	FromProbe string `json:"from_probe,omitempty"`
	ToProbe   string `json:"to_probe"`
	// KindBefore and KindAfter are the reply's effective kind before and after a mark.
	KindBefore Kind `json:"kind_before,omitempty"`
	KindAfter  Kind `json:"kind_after,omitempty"`
	// MovedThreadIDs are thread message IDs re-pointed from FromProbe to ToProbe, and
	// AddedThreadIDs those newly indexed to ToProbe; likewise for ticket keys (of
	// TicketVendor).
	MovedThreadIDs  []string `json:"moved_thread_ids,omitempty"`
	AddedThreadIDs  []string `json:"added_thread_ids,omitempty"`
	TicketVendor    string   `json:"ticket_vendor,omitempty"`
	MovedTicketKeys []string `json:"moved_ticket_keys,omitempty"`
	AddedTicketKeys []string `json:"added_ticket_keys,omitempty"`
	// Kept lists what the link left where it was, each with why (an ID another probe's
	// thread holds, a reply recorded before what it taught was kept).
	Kept []string `json:"kept,omitempty"`
	// Forced says what `link --force` overrode (a reply that arrived before the probe's
	// inquiry was sent); "" when nothing was.
	Forced string `json:"forced,omitempty"`
}

// Concerns reports whether c changed something of probe id.
func (c Correction) Concerns(id string) bool { return c.FromProbe == id || c.ToProbe == id }
