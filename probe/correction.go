package probe

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The actions a Correction records.
const (
	CorrectionMark   = "mark"   // a person decided a reply's kind (mark, review)
	CorrectionLink   = "link"   // a person tied a message to a probe
	CorrectionReload = "reload" // the daemon read its configuration again (or refused to)
	CorrectionPause  = "pause"  // a person paused a vendor, or changed a pause in force
	CorrectionResume = "resume" // a person ended a pause
)

// Correction is one entry of the audit log: a correction by hand (`supportprobe mark`,
// `link`, a `review` decision), a reload, a pause or a resume; who made it and when,
// why, and exactly what it changed, so a figure that rests on a person's decision can
// be traced to that decision. Entries are hash-chained (Seq, Prev, Hash; see
// ChainHash), so an entry changed or removed later is detected.
type Correction struct {
	// Seq is the entry's position in the log, from 1; Prev is the Hash of entry Seq-1
	// ("" for the first); Hash is ChainHash(Seq, Prev, BodyDigest()).
	Seq  uint64 `json:"seq,omitempty"`
	Prev string `json:"prev,omitempty"`
	Hash string `json:"hash,omitempty"`
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
	// Vendor is the vendor a pause or resume concerns; Until the end of that pause (zero:
	// until resumed).
	Vendor string    `json:"vendor,omitempty"`
	Until  time.Time `json:"until,omitzero"`
	// File and ConfigSHA256 are the configuration file a reload read and its SHA-256;
	// Refused says why the file was refused ("" when it was put in force).
	File         string `json:"file,omitempty"`
	ConfigSHA256 string `json:"config_sha256,omitempty"`
	Refused      string `json:"refused,omitempty"`
}

// Concerns reports whether c changed something of probe id.
func (c Correction) Concerns(id string) bool { return c.FromProbe == id || c.ToProbe == id }

// BodyDigest returns the hex SHA-256 of the entry's canonical encoding without its chain
// fields (Seq, Prev, Hash): the JSON encoding of the struct, fields in declaration order,
// times in UTC, empty fields left out. Fields added later are left out when empty, so
// the digest of an entry written before them does not change.
func (c Correction) BodyDigest() (string, error) {
	c.Seq, c.Prev, c.Hash = 0, "", ""
	c.At = c.At.UTC()
	if !c.Until.IsZero() {
		c.Until = c.Until.UTC()
	}
	data, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode audit entry %s: %w", c.ID, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// ChainHash is the hash of entry seq of the audit log: the hex SHA-256 of
// "supportprobe-audit-v1\n" + seq (decimal) + "\n" + prev + "\n" + body + "\n", where
// prev is the previous entry's hash ("" for the first) and body the entry's BodyDigest.
// Hashing the body's digest rather than the body lets an evidence archive carry the
// links of entries it leaves out (Seq, Prev, BodySHA256, Hash) and still be verified.
func ChainHash(seq uint64, prev, body string) string {
	sum := sha256.Sum256([]byte("supportprobe-audit-v1\n" + strconv.FormatUint(seq, 10) + "\n" + prev + "\n" + body + "\n"))
	return hex.EncodeToString(sum[:])
}

// Chain sets c's Seq, Prev and Hash to follow the entry whose hash is prev at position
// seq-1.
func (c *Correction) Chain(seq uint64, prev string) error {
	body, err := c.BodyDigest()
	if err != nil {
		return err
	}
	c.Seq, c.Prev, c.Hash = seq, prev, ChainHash(seq, prev, body)
	return nil
}

// AuditLink is one link of the audit chain as an evidence archive carries it: the chain
// fields of entry Seq, the digest of its body, and the entry itself when the archive
// includes it (nil when left out: it concerns none of the exported probes).
type AuditLink struct {
	Seq        uint64      `json:"seq"`
	Prev       string      `json:"prev"`
	BodySHA256 string      `json:"body_sha256"`
	Hash       string      `json:"hash"`
	Entry      *Correction `json:"entry,omitempty"`
}

// Link returns c's link, with c included when full is true.
func (c Correction) Link(full bool) (AuditLink, error) {
	body, err := c.BodyDigest()
	if err != nil {
		return AuditLink{}, err
	}
	l := AuditLink{Seq: c.Seq, Prev: c.Prev, BodySHA256: body, Hash: c.Hash}
	if full {
		l.Entry = &c
	}
	return l, nil
}

// ErrAuditBroken means the audit chain does not verify: an entry was changed, removed,
// inserted or reordered after it was written.
var ErrAuditBroken = errors.New("audit log chain broken")

// VerifyChain checks links in order: the first has Seq 1 and no Prev, each next one
// follows the previous (Seq+1, Prev = its Hash), each Hash is ChainHash of its fields,
// and an included entry has the link's chain fields and body digest. The error wraps
// ErrAuditBroken and names the first entry that fails, with why.
func VerifyChain(links []AuditLink) error {
	prev := ""
	for i, l := range links {
		name := fmt.Sprintf("entry seq %d", l.Seq)
		if l.Entry != nil && l.Entry.ID != "" {
			name += " (" + l.Entry.ID + ")"
		}
		fail := func(why string) error {
			return fmt.Errorf("%w at %s: %s", ErrAuditBroken, name, why)
		}
		if l.Seq != uint64(i)+1 {
			return fail(fmt.Sprintf("expected seq %d here: an entry before it was removed or inserted", i+1))
		}
		if l.Prev != prev {
			return fail("its prev hash is not the hash of the entry before it: that entry, or the order, was changed")
		}
		if l.Entry != nil {
			body, err := l.Entry.BodyDigest()
			if err != nil {
				return fail(err.Error())
			}
			if body != l.BodySHA256 {
				return fail("its content does not match its recorded digest: the entry was altered")
			}
			if l.Entry.Seq != l.Seq || l.Entry.Prev != l.Prev || l.Entry.Hash != l.Hash {
				return fail("the entry's chain fields differ from its link")
			}
		}
		if ChainHash(l.Seq, l.Prev, l.BodySHA256) != l.Hash {
			return fail("its hash is not the hash of its content: the entry was altered")
		}
		prev = l.Hash
	}
	return nil
}

// VerifyEntries checks a whole log, oldest first, as VerifyChain does.
func VerifyEntries(cs []Correction) error {
	links := make([]AuditLink, 0, len(cs))
	for _, c := range cs {
		l, err := c.Link(true)
		if err != nil {
			return err
		}
		links = append(links, l)
	}
	return VerifyChain(links)
}
