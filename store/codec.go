package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// The record encoding of probes and replies.
//
// Until schema version 8 both were stored as JSON; JSON decoding was most of the cost of
// reading a week of 100,000 probes for a report. Since version 8 they are stored in a
// compact binary form (codecMagic, the format version, then the fields in a fixed
// order), which decodes about ten times faster and takes less room. Migration 8 rewrites
// every JSON record; readers still accept JSON (a value starting with '{'), so a record
// is readable whichever form it is in.
//
// Format version 1, all integers as varints (signed ones zig-zag):
//
//	string       uvarint length, bytes
//	time         uvarint 0 for the zero time; else 1, varint Unix seconds, uvarint
//	             nanoseconds, varint zone offset in seconds (the offset JSON kept)
//	[]string     uvarint n+1 then n strings; 0 for nil (JSON told nil from empty too)
//	pointer      one byte 0 (nil) or 1, then the value
//	bool         one byte 0 or 1
//	float64      8 bytes, IEEE 754 big-endian
//
// Probe: ID Token Vendor Script Priority Language From To Subject MessageID CreatedAt
// ScheduledAt SentAt SentAtInferred State Stage DataEndAt FailReason ClockSkew
// SkewMeasured LateBy Terms Followups. Terms: Hours(Zone Days Open Close Holidays)
// SLA*(FirstResponse Clock) Deadline Script*(Followups(Kind After Body)… Vars as sorted
// key/value pairs). Followup: Index Kind State DueAt SentAt MessageID InReplyTo Subject
// Reason. Reply: ID ProbeID MessageID Folder UID ReceivedAt HeaderDate DetectedAt From
// Subject Kind Reason Confidence MatchedBy MatchDetail Override*(Kind Note At By)
// Language Learned*(ThreadIDs Vendor TicketKeys) Auth*(CheckedAt Signatures(Domain
// Selector Result Reason Aligned)… VendorDomains AuthenticationResults Attempts).
//
// Format version 2 (schema version 10, written since): a probe's terms are shared (see
// "Shared terms" below), a reply is written against its probe (see "Replies against
// their probe"). Version 1 records stay readable; migration 10 rewrites them.
//
// A field added to probe.Probe or probe.Reply must be added here under a new format
// version; TestCodecCoversEveryField fails until it is.
const (
	// codecMagic starts every binary record; a JSON record starts with '{'.
	codecMagic = 0xB7
	// codecVersion is the format version of replies, and of the probes migration 8
	// writes.
	codecVersion = 1
	// codecProbeVersion is the format version of the probes this binary writes: 2,
	// version 1 with the terms shared (encodeProbeShared).
	codecProbeVersion = 2
	// codecReplyVersion is the format version of the replies this binary writes: 2,
	// version 1 with strings written against the probe's (encodeReplyIn).
	codecReplyVersion = 2
)

// errCodec is wrapped by every error about a record that cannot be decoded.
var errCodec = errors.New("damaged record")

// encoder appends a record's fields to buf.
type encoder struct{ buf []byte }

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) varint(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}
func (e *encoder) boolean(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uvarint(0)
		return
	}
	_, off := t.Zone()
	e.uvarint(1)
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
	e.varint(int64(off))
}
func (e *encoder) strs(ss []string) {
	if ss == nil {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(len(ss)) + 1)
	for _, s := range ss {
		e.str(s)
	}
}
func (e *encoder) float(f float64) { e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(f)) }

// decoder reads a record's fields. Strings are substrings of one copy of the whole
// record (src), so a record costs one allocation for all its text; the first error
// sticks and later reads return zero values.
type decoder struct {
	src string
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or invalid %s at byte %d of %d", errCodec, what, d.off, len(d.src))
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.off >= len(d.src) {
			break
		}
		b := d.src[d.off]
		d.off++
		if b < 0x80 {
			return v | uint64(b)<<s
		}
		v |= uint64(b&0x7f) << s
		s += 7
	}
	d.fail("number")
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.src)-d.off) {
		d.fail("string")
		return ""
	}
	s := d.src[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *decoder) boolean() bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.src) || d.src[d.off] > 1 {
		d.fail("flag")
		return false
	}
	d.off++
	return d.src[d.off-1] == 1
}

// zones holds the fixed zones decoded times are put in, by offset, so that a week of
// records with the same few offsets allocates each zone once. UTC (offset 0) is
// time.UTC, as JSON decoding gives.
var zones sync.Map // offset in seconds → *time.Location

func zoneAt(off int) *time.Location {
	if loc, ok := zones.Load(off); ok {
		return loc.(*time.Location)
	}
	loc, _ := zones.LoadOrStore(off, time.FixedZone("", off))
	return loc.(*time.Location)
}

func (d *decoder) time() time.Time {
	switch d.uvarint() {
	case 0:
		return time.Time{}
	case 1:
	default:
		d.fail("time")
		return time.Time{}
	}
	sec, nsec, off := d.varint(), d.uvarint(), d.varint()
	if d.err != nil || nsec >= 1e9 {
		d.fail("time")
		return time.Time{}
	}
	return makeTime(sec, int64(nsec), off)
}

// makeTime returns the instant sec, nsec at zone offset off, as JSON decoding would.
func makeTime(sec, nsec, off int64) time.Time {
	t := time.Unix(sec, nsec)
	if off == 0 {
		return t.UTC()
	}
	// JSON decoding puts an offset equal to the local zone's in time.Local; keep that,
	// so a record reads the same in either encoding.
	if _, loff := t.Zone(); int64(loff) == off {
		return t
	}
	return t.In(zoneAt(int(off)))
}

func (d *decoder) strs() []string {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	n--
	if n > uint64(len(d.src)-d.off) { // every string takes at least one byte
		d.fail("list")
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) float() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.src)-d.off < 8 {
		d.fail("number")
		return 0
	}
	v := binary.BigEndian.Uint64([]byte(d.src[d.off : d.off+8]))
	d.off += 8
	return math.Float64frombits(v)
}

// count reads a list length, bounded by the bytes left (every element takes one at
// least), so a damaged length cannot make a huge allocation.
func (d *decoder) count(what string) int {
	n := d.uvarint()
	if n > uint64(len(d.src)-d.off) {
		d.fail(what)
		return 0
	}
	return int(n)
}

// header checks the magic byte and the format version, which must be 1 to max, and
// returns the version.
func (d *decoder) header(max uint64) uint64 {
	if len(d.src) < 2 || d.src[0] != codecMagic {
		d.fail("header")
		return 0
	}
	d.off = 1
	v := d.uvarint()
	if (v < 1 || v > max) && d.err == nil {
		d.err = fmt.Errorf("%w: record format version %d, this supportprobe reads up to %d", errCodec, v, max)
	}
	return v
}

func (d *decoder) done() error {
	if d.err == nil && d.off != len(d.src) {
		d.err = fmt.Errorf("%w: %d bytes left over after the last field", errCodec, len(d.src)-d.off)
	}
	return d.err
}

// encodeProbe returns p's binary record, without its replies.
func encodeProbe(p probe.Probe) []byte {
	e := encoder{buf: make([]byte, 0, 512)}
	e.buf = append(e.buf, codecMagic)
	e.uvarint(codecVersion)
	e.probeHead(p)
	e.terms(p.Terms)
	e.followups(p.Followups)
	return e.buf
}

// encodeProbeShared returns p's record in format version 2: as encodeProbe, with the
// terms replaced by a reference to a copy of them in the terms bucket of tx (see
// putTerms), which must be writable.
func encodeProbeShared(tx *bbolt.Tx, p probe.Probe) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 384)}
	e.buf = append(e.buf, codecMagic)
	e.uvarint(codecProbeVersion)
	e.probeHead(p)
	ref, err := putTerms(tx, p.Terms)
	if err != nil {
		return nil, fmt.Errorf("store the probe's terms: %w", err)
	}
	if ref == nil {
		e.buf = append(e.buf, termsInline)
		e.terms(p.Terms)
	} else {
		e.buf = append(e.buf, termsShared)
		e.buf = append(e.buf, ref...)
	}
	e.followups(p.Followups)
	return e.buf, nil
}

// probeHead encodes the fields of a probe before its terms.
func (e *encoder) probeHead(p probe.Probe) {
	e.str(p.ID)
	e.str(p.Token)
	e.str(p.Vendor)
	e.str(p.Script)
	e.str(string(p.Priority))
	e.str(p.Language)
	e.str(p.From)
	e.strs(p.To)
	e.str(p.Subject)
	e.str(p.MessageID)
	e.time(p.CreatedAt)
	e.time(p.ScheduledAt)
	e.time(p.SentAt)
	e.boolean(p.SentAtInferred)
	e.str(string(p.State))
	e.str(string(p.Stage))
	e.time(p.DataEndAt)
	e.str(p.FailReason)
	e.varint(int64(p.ClockSkew))
	e.boolean(p.SkewMeasured)
	e.varint(int64(p.LateBy))
}

// terms encodes a probe's terms.
func (e *encoder) terms(t probe.Terms) {
	e.str(t.Hours.Zone)
	e.strs(t.Hours.Days)
	e.str(t.Hours.Open)
	e.str(t.Hours.Close)
	e.strs(t.Hours.Holidays)
	e.boolean(t.SLA != nil)
	if t.SLA != nil {
		e.varint(int64(t.SLA.FirstResponse))
		e.str(string(t.SLA.Clock))
	}
	e.varint(int64(t.Deadline))
	e.boolean(t.Script != nil)
	if s := t.Script; s != nil {
		if s.Followups == nil {
			e.uvarint(0)
		} else {
			e.uvarint(uint64(len(s.Followups)) + 1)
		}
		for _, f := range s.Followups {
			e.str(string(f.Kind))
			e.varint(int64(f.After))
			e.str(f.Body)
		}
		keys := slices.Sorted(maps.Keys(s.Vars))
		e.uvarint(uint64(len(keys)))
		for _, k := range keys {
			e.str(k)
			e.str(s.Vars[k])
		}
	}
}

// followups encodes a probe's follow-ups.
func (e *encoder) followups(fs []probe.Followup) {
	e.uvarint(uint64(len(fs)))
	for _, f := range fs {
		e.varint(int64(f.Index))
		e.str(string(f.Kind))
		e.str(string(f.State))
		e.time(f.DueAt)
		e.time(f.SentAt)
		e.str(f.MessageID)
		e.str(f.InReplyTo)
		e.str(f.Subject)
		e.str(f.Reason)
	}
}

// decodeProbeBinary decodes a record made by encodeProbe or encodeProbeShared into p
// (Replies untouched); terms is the terms bucket that a record of format version 2 may
// refer to (nil: none, and such a reference is an error).
func decodeProbeBinary(v []byte, p *probe.Probe, terms *bbolt.Bucket) error {
	d := decoder{src: string(v)}
	version := d.header(codecProbeVersion)
	p.ID = d.str()
	p.Token = d.str()
	p.Vendor = d.str()
	p.Script = d.str()
	p.Priority = probe.Priority(d.str())
	p.Language = d.str()
	p.From = d.str()
	p.To = d.strs()
	p.Subject = d.str()
	p.MessageID = d.str()
	p.CreatedAt = d.time()
	p.ScheduledAt = d.time()
	p.SentAt = d.time()
	p.SentAtInferred = d.boolean()
	p.State = probe.State(d.str())
	p.Stage = probe.SendStage(d.str())
	p.DataEndAt = d.time()
	p.FailReason = d.str()
	p.ClockSkew = time.Duration(d.varint())
	p.SkewMeasured = d.boolean()
	p.LateBy = time.Duration(d.varint())

	if ref, shared := d.termsRef(version); shared {
		t, err := sharedTerms(terms, ref)
		if err != nil {
			return err
		}
		p.Terms = t
	} else {
		d.terms(&p.Terms)
	}

	p.Followups = nil
	if n := d.count("follow-ups"); n > 0 {
		p.Followups = make([]probe.Followup, n)
		for i := range p.Followups {
			f := &p.Followups[i]
			f.Index = int(d.varint())
			f.Kind = probe.FollowupKind(d.str())
			f.State = probe.State(d.str())
			f.DueAt = d.time()
			f.SentAt = d.time()
			f.MessageID = d.str()
			f.InReplyTo = d.str()
			f.Subject = d.str()
			f.Reason = d.str()
		}
	}
	return d.done()
}

// termsRef reads, in a record of format version 2, whether its terms are shared and
// the reference to them; a record of version 1 has its terms inline.
func (d *decoder) termsRef(version uint64) (ref string, shared bool) {
	if version < 2 || d.err != nil {
		return "", false
	}
	if d.off >= len(d.src) {
		d.fail("terms")
		return "", false
	}
	form := d.src[d.off]
	d.off++
	switch form {
	case termsInline:
		return "", false
	case termsShared:
		if len(d.src)-d.off < termsRefLen {
			d.fail("terms reference")
			return "", false
		}
		ref = d.src[d.off : d.off+termsRefLen]
		d.off += termsRefLen
		return ref, true
	}
	d.fail("terms form")
	return "", false
}

// terms decodes terms encoded by encoder.terms into t.
func (d *decoder) terms(t *probe.Terms) {
	t.Hours.Zone = d.str()
	t.Hours.Days = d.strs()
	t.Hours.Open = d.str()
	t.Hours.Close = d.str()
	t.Hours.Holidays = d.strs()
	t.SLA = nil
	if d.boolean() {
		t.SLA = &probe.SLATarget{FirstResponse: time.Duration(d.varint()), Clock: probe.Clock(d.str())}
	}
	t.Deadline = time.Duration(d.varint())
	t.Script = nil
	if d.boolean() {
		s := &probe.ScriptTerms{}
		if n := d.uvarint(); n > 0 && d.err == nil {
			if n-1 > uint64(len(d.src)-d.off) {
				d.fail("follow-up terms")
			} else {
				s.Followups = make([]probe.StoredFollowup, n-1)
				for i := range s.Followups {
					s.Followups[i] = probe.StoredFollowup{Kind: probe.FollowupKind(d.str()), After: time.Duration(d.varint()), Body: d.str()}
				}
			}
		}
		if n := d.count("script vars"); n > 0 {
			s.Vars = make(map[string]string, n)
			for range n {
				k := d.str()
				s.Vars[k] = d.str()
			}
		}
		t.Script = s
	}
}

// encodeReply returns r's binary record in format version 1 (as migration 8 writes it).
func encodeReply(r probe.Reply) []byte {
	e := encoder{buf: make([]byte, 0, 384)}
	e.buf = append(e.buf, codecMagic)
	e.uvarint(codecVersion)
	e.replyFields(r, nil)
	return e.buf
}

// encodeReplyIn returns r's binary record in format version 2: its subject and
// matching detail written against ctx, its probe's (see replyCtx), and its header date
// and detection time against its arrival.
func encodeReplyIn(r probe.Reply, ctx replyCtx) []byte {
	e := encoder{buf: make([]byte, 0, 256)}
	e.buf = append(e.buf, codecMagic)
	e.uvarint(codecReplyVersion)
	e.replyFields(r, &ctx)
	return e.buf
}

// replyFields encodes r's fields: as format version 1 when ctx is nil, else as 2.
func (e *encoder) replyFields(r probe.Reply, ctx *replyCtx) {
	e.str(r.ID)
	e.str(r.ProbeID)
	e.str(r.MessageID)
	e.str(r.Folder)
	e.uvarint(uint64(r.UID))
	e.time(r.ReceivedAt)
	if ctx == nil {
		e.time(r.HeaderDate)
		e.time(r.DetectedAt)
		e.str(r.From)
		e.str(r.Subject)
	} else {
		e.timeNear(r.HeaderDate, r.ReceivedAt)
		e.timeNear(r.DetectedAt, r.ReceivedAt)
		e.str(r.From)
		e.strIn(r.Subject, ctx)
	}
	e.str(string(r.Kind))
	e.str(r.Reason)
	e.float(r.Confidence)
	e.str(string(r.MatchedBy))
	if ctx == nil {
		e.str(r.MatchDetail)
	} else {
		e.strIn(r.MatchDetail, ctx)
	}
	e.boolean(r.Override != nil)
	if o := r.Override; o != nil {
		e.str(string(o.Kind))
		e.str(o.Note)
		e.time(o.At)
		e.str(o.By)
	}
	e.str(r.Language)
	e.boolean(r.Learned != nil)
	if l := r.Learned; l != nil {
		e.strs(l.ThreadIDs)
		e.str(l.Vendor)
		e.strs(l.TicketKeys)
	}
	e.boolean(r.Auth != nil)
	if a := r.Auth; a != nil {
		e.time(a.CheckedAt)
		if a.Signatures == nil {
			e.uvarint(0)
		} else {
			e.uvarint(uint64(len(a.Signatures)) + 1)
		}
		for _, s := range a.Signatures {
			e.str(s.Domain)
			e.str(s.Selector)
			e.str(string(s.Result))
			e.str(s.Reason)
			e.boolean(s.Aligned)
		}
		e.strs(a.VendorDomains)
		e.str(a.AuthenticationResults)
		e.varint(int64(a.Attempts))
	}
}

// decodeReplyBinary decodes a record made by encodeReply or encodeReplyIn into r; ctx
// is the context of its probe, which a record of format version 2 may need (nil: none,
// and such a need is an error).
func decodeReplyBinary(v []byte, r *probe.Reply, ctx *replyCtx) error {
	d := decoder{src: string(v)}
	if d.header(codecReplyVersion) < 2 {
		ctx = nil
	} else if ctx == nil {
		ctx = &replyCtx{missing: true}
	}
	r.ID = d.str()
	r.ProbeID = d.str()
	r.MessageID = d.str()
	r.Folder = d.str()
	uid := d.uvarint()
	if uid > math.MaxUint32 {
		d.fail("UID")
	}
	r.UID = uint32(uid)
	r.ReceivedAt = d.time()
	if ctx == nil {
		r.HeaderDate = d.time()
		r.DetectedAt = d.time()
		r.From = d.str()
		r.Subject = d.str()
	} else {
		r.HeaderDate = d.timeNear(r.ReceivedAt)
		r.DetectedAt = d.timeNear(r.ReceivedAt)
		r.From = d.str()
		r.Subject = d.strIn(ctx)
	}
	r.Kind = probe.Kind(d.str())
	r.Reason = d.str()
	r.Confidence = d.float()
	r.MatchedBy = probe.Rung(d.str())
	if ctx == nil {
		r.MatchDetail = d.str()
	} else {
		r.MatchDetail = d.strIn(ctx)
	}
	r.Override = nil
	if d.boolean() {
		r.Override = &probe.Override{Kind: probe.Kind(d.str()), Note: d.str(), At: d.time(), By: d.str()}
	}
	r.Language = d.str()
	r.Learned = nil
	if d.boolean() {
		r.Learned = &probe.Learned{ThreadIDs: d.strs(), Vendor: d.str(), TicketKeys: d.strs()}
	}
	r.Auth = nil
	if d.boolean() {
		a := &probe.Auth{CheckedAt: d.time()}
		if n := d.uvarint(); n > 0 && d.err == nil {
			if n-1 > uint64(len(d.src)-d.off) {
				d.fail("signatures")
			} else {
				a.Signatures = make([]probe.Signature, n-1)
				for i := range a.Signatures {
					a.Signatures[i] = probe.Signature{Domain: d.str(), Selector: d.str(),
						Result: probe.DKIMResult(d.str()), Reason: d.str(), Aligned: d.boolean()}
				}
			}
		}
		a.VendorDomains = d.strs()
		a.AuthenticationResults = d.str()
		a.Attempts = int(d.varint())
		r.Auth = a
	}
	return d.done()
}

// unmarshalProbe decodes a stored probe record in either encoding into p; tx is the
// transaction it was read in, whose terms bucket holds the terms a record may share.
func unmarshalProbe(tx *bbolt.Tx, v []byte, p *probe.Probe) error {
	var terms *bbolt.Bucket
	if tx != nil && len(v) > 1 && v[0] == codecMagic && v[1] >= 2 {
		terms = tx.Bucket(bTerms)
	}
	return unmarshalProbeIn(terms, v, p)
}

// unmarshalProbeIn is unmarshalProbe with the terms bucket already open (nil: none).
func unmarshalProbeIn(terms *bbolt.Bucket, v []byte, p *probe.Probe) error {
	switch {
	case len(v) > 0 && v[0] == codecMagic:
		return decodeProbeBinary(v, p, terms)
	case len(v) > 0 && v[0] == '{':
		return json.Unmarshal(v, p)
	case v == nil:
		return ErrNotFound
	}
	return fmt.Errorf("%w: unknown record encoding %s", errCodec, leadByte(v))
}

// unmarshalReply decodes the stored reply record v, read under key in tx, in either
// encoding into r.
func unmarshalReply(tx *bbolt.Tx, key, v []byte, r *probe.Reply) error {
	if len(v) > 1 && v[0] == codecMagic && v[1] >= 2 {
		ctx, err := replyContextAt(tx, key)
		if err != nil {
			return err
		}
		return unmarshalReplyIn(v, r, &ctx)
	}
	return unmarshalReplyIn(v, r, nil)
}

// unmarshalReplyIn decodes a stored reply record in either encoding into r, with the
// context of its probe (nil when not at hand: a record that needs it is an error).
func unmarshalReplyIn(v []byte, r *probe.Reply, ctx *replyCtx) error {
	switch {
	case len(v) > 0 && v[0] == codecMagic:
		return decodeReplyBinary(v, r, ctx)
	case len(v) > 0 && v[0] == '{':
		return json.Unmarshal(v, r)
	case v == nil:
		return ErrNotFound
	}
	return fmt.Errorf("%w: unknown record encoding %s", errCodec, leadByte(v))
}

func leadByte(v []byte) string {
	if len(v) == 0 {
		return "(empty value)"
	}
	return fmt.Sprintf("(first byte 0x%02x)", v[0])
}

// Shared terms (probe format version 2, schema version 10).
//
// A probe carries the terms it was measured against (business hours, holidays, SLA
// target, deadline, the script's follow-up terms): about 110 of a record's 360 bytes,
// and the same for every probe of a vendor, priority and script until its
// configuration changes. A record of version 2 holds, where version 1 held the terms,
// one byte, termsShared, and the first termsRefLen bytes of the SHA-256 of the terms'
// encoding (encoder.terms), under which the terms bucket keeps that encoding; or
// termsInline and the terms as in version 1, when another encoding already holds that
// key (never seen; the record stays correct). Terms are stored once and never deleted
// or changed (a key names its content), so a record's terms read the same forever.
const (
	termsInline = 0
	termsShared = 1
	termsRefLen = 8
)

// bTerms is the terms bucket: reference (termsRefLen bytes) → terms encoding.
var bTerms = []byte("terms")

// putTerms stores t's encoding in the terms bucket of tx, if not there yet, and returns
// its reference; nil when another encoding holds that reference (the caller keeps t
// inline).
func putTerms(tx *bbolt.Tx, t probe.Terms) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 128)}
	e.terms(t)
	ref := sha256Prefix(e.buf)
	b, err := tx.CreateBucketIfNotExists(bTerms)
	if err != nil {
		return nil, err
	}
	switch have := b.Get(ref); {
	case have == nil:
		return ref, b.Put(ref, e.buf)
	case bytes.Equal(have, e.buf):
		return ref, nil
	}
	return nil, nil
}

// sha256Prefix returns the reference of a terms encoding.
func sha256Prefix(enc []byte) []byte {
	sum := sha256.Sum256(enc)
	return sum[:termsRefLen]
}

// sharedTerms decodes the terms stored under ref in terms.
func sharedTerms(terms *bbolt.Bucket, ref string) (probe.Terms, error) {
	var t probe.Terms
	var v []byte
	if terms != nil {
		v = terms.Get([]byte(ref))
	}
	if v == nil {
		return t, fmt.Errorf("%w: the terms %x it refers to are not in the terms bucket (the file is damaged; restore it from a backup)", errCodec, ref)
	}
	d := decoder{src: string(v)}
	d.terms(&t)
	if err := d.done(); err != nil {
		return t, fmt.Errorf("terms %x: %w", ref, err)
	}
	return t, nil
}

// Replies against their probe (reply format version 2, schema version 10).
//
// A reply's subject nearly always holds its probe's ("Re: [#4711] " and the probe's
// subject), and its matching detail often names the probe's Message-ID ("In-Reply-To
// <…>"); its header date is its arrival to the second, and it was detected within a
// second or so. A record of version 2 writes these two strings against replyCtx, its
// probe's subject and Message-ID (strIn), and the two times as nanoseconds from the
// arrival when they share its zone offset (timeNear): about 60 bytes less per reply.
// The context is read from the probe record under the first 16 bytes of the reply's
// key (its probe's key), so a probe whose subject or Message-ID changes has its replies
// written again against the new ones in the same transaction (UpdateProbe), and a reply
// linked to another probe is written against that one (Link).

// replyCtx is what a reply record of version 2 is written against: its probe's subject
// and Message-ID. missing marks a context that was not at hand.
type replyCtx struct {
	subject, messageID string
	missing            bool
}

// The forms of a string written against a replyCtx (strIn): the string itself, or a
// prefix and a suffix around the probe's subject or Message-ID.
const (
	ctxLiteral   = 0
	ctxSubject   = 1
	ctxMessageID = 2
	// ctxMin is the shortest context string worth a reference.
	ctxMin = 8
)

// strIn writes s against ctx: as ctxSubject or ctxMessageID with the text around the
// first occurrence of the probe's subject or Message-ID, else as ctxLiteral.
func (e *encoder) strIn(s string, ctx *replyCtx) {
	for _, c := range []struct {
		form byte
		sub  string
	}{{ctxSubject, ctx.subject}, {ctxMessageID, ctx.messageID}} {
		if len(c.sub) < ctxMin {
			continue
		}
		if i := strings.Index(s, c.sub); i >= 0 {
			e.buf = append(e.buf, c.form)
			e.str(s[:i])
			e.str(s[i+len(c.sub):])
			return
		}
	}
	e.buf = append(e.buf, ctxLiteral)
	e.str(s)
}

// strIn reads a string written by encoder.strIn.
func (d *decoder) strIn(ctx *replyCtx) string {
	if d.err != nil {
		return ""
	}
	if d.off >= len(d.src) {
		d.fail("string form")
		return ""
	}
	form := d.src[d.off]
	d.off++
	var sub string
	switch form {
	case ctxLiteral:
		return d.str()
	case ctxSubject:
		sub = ctx.subject
	case ctxMessageID:
		sub = ctx.messageID
	default:
		d.fail("string form")
		return ""
	}
	prefix, suffix := d.str(), d.str()
	if d.err == nil && (ctx.missing || len(sub) < ctxMin) {
		d.err = fmt.Errorf("%w: a string written against its probe, whose record is missing or does not hold it (the file is damaged; restore it from a backup)", errCodec)
		return ""
	}
	return prefix + sub + suffix
}

// timeNear writes t as nanoseconds from base (form 2) when both are set and in the same
// zone offset, else as encoder.time does (forms 0 and 1).
func (e *encoder) timeNear(t, base time.Time) {
	if !t.IsZero() && !base.IsZero() {
		_, off := t.Zone()
		_, boff := base.Zone()
		delta := t.Sub(base)
		if off == boff && delta > math.MinInt64/2 && delta < math.MaxInt64/2 && base.Add(delta).Equal(t) {
			e.uvarint(2)
			e.varint(int64(delta))
			return
		}
	}
	e.time(t)
}

// timeNear reads a time written by encoder.timeNear against base.
func (d *decoder) timeNear(base time.Time) time.Time {
	if d.err != nil {
		return time.Time{}
	}
	start := d.off
	if d.uvarint() != 2 {
		d.off = start
		return d.time()
	}
	delta := d.varint()
	if d.err != nil {
		return time.Time{}
	}
	if base.IsZero() {
		d.fail("time")
		return time.Time{}
	}
	t := base.Add(time.Duration(delta))
	_, off := base.Zone()
	return makeTime(t.Unix(), int64(t.Nanosecond()), int64(off))
}

// replyContextAt returns the context of the reply under key (its probe's key and 8
// bytes of sequence) in tx: the subject and Message-ID of the probe record there.
func replyContextAt(tx *bbolt.Tx, key []byte) (replyCtx, error) {
	if tx == nil || len(key) < 8 {
		return replyCtx{missing: true}, nil
	}
	v := tx.Bucket(bProbes).Get(key[:len(key)-8])
	if v == nil {
		return replyCtx{missing: true}, nil
	}
	return probeContext(v)
}

// probeContext reads a probe record's subject and Message-ID, decoding no more of it.
func probeContext(v []byte) (replyCtx, error) {
	if len(v) > 0 && v[0] == '{' {
		var p probe.Probe
		if err := json.Unmarshal(v, &p); err != nil {
			return replyCtx{}, fmt.Errorf("%w: probe record: %v", errCodec, err)
		}
		return replyCtx{subject: p.Subject, messageID: p.MessageID}, nil
	}
	d := decoder{src: string(v)}
	d.header(codecProbeVersion)
	for range 7 { // ID Token Vendor Script Priority Language From
		d.str()
	}
	d.skipStrs() // To
	ctx := replyCtx{subject: d.str(), messageID: d.str()}
	if d.err != nil {
		return replyCtx{}, fmt.Errorf("probe record: %w", d.err)
	}
	return ctx, nil
}

// encodeReplyAt returns r's record as this version writes it (encodeReplyIn) to go under
// key in tx, against the probe whose key key starts with; as schema 9 did
// (schema9Records), format version 1.
func encodeReplyAt(tx *bbolt.Tx, key []byte, r probe.Reply) ([]byte, error) {
	if schema9Records {
		return encodeReply(r), nil
	}
	ctx, err := replyContextAt(tx, key)
	if err != nil {
		return nil, err
	}
	if ctx.missing {
		return encodeReply(r), nil
	}
	return encodeReplyIn(r, ctx), nil
}
