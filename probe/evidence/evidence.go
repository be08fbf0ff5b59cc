// Package evidence writes and verifies evidence archives: a zip holding, for each probe,
// the inquiry exactly as sent and every reply exactly as fetched (byte for byte from the
// store), the probe's figures, the definitions behind them, and a manifest with every
// file's SHA-256, signed with the instance's Ed25519 key, so that anyone holding the
// public key can check later that nothing was changed and that this instance wrote it.
//
// Layout:
//
//	DEFINITIONS.txt     what the figures mean (DefinitionsVersion)
//	P17/inquiry.eml     the inquiry as handed to SMTP
//	P17/R3.eml          reply R3 as fetched over IMAP
//	manifest.json       Manifest: files with SHA-256, missing messages, the probes' records
//	manifest.json.sig   SSH signature (SSHSIG) of manifest.json, namespace SignatureNamespace
//	signer.pub          the signing public key (a convenience: trust the one you were given)
//	summary.txt         the same for people
//	audit.json          the audit log's chain (AuditFile), when the exporter gave one
//
// Every file but the signature is listed in the manifest with its SHA-256, so the
// signature over the manifest covers them all. The private key lives in the state
// directory (KeyFileName), never in the archive.
//
// audit.json carries every link of the audit log's hash chain from its first entry to its
// head at export time (seq, prev, body_sha256, hash), and in full only the entries that
// concern the exported probes (a mark or link of one of them) or their vendors (a pause
// or resume): the other entries are represented by their body's digest alone, enough to
// verify the chain without handing the other party unrelated corrections, reloads or
// notes. Verify checks the chain.
//
// The archive is deterministic: entries are sorted by name and carry generated_at as
// their modification time, so two exports of the same data differ only where
// generated_at appears.
package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// FormatVersion is the version of the archive layout and manifest fields.
// Version 2 added the signature, signer.pub and the manifest's signer; Verify still
// reads version 1 archives and reports them unsigned.
const FormatVersion = 2

// Names of the fixed files in an archive.
const (
	ManifestName    = "manifest.json"
	SummaryName     = "summary.txt"
	DefinitionsName = "DEFINITIONS.txt"
	SignatureName   = "manifest.json.sig"
	SignerKeyName   = "signer.pub"
	AuditName       = "audit.json"
)

// DefinitionsVersion names the text in Definitions; it changes whenever a definition does.
const DefinitionsVersion = "supportprobe-definitions-5"

// Definitions says what the figures in an archive mean.
const Definitions = `Definitions used by supportprobe (` + DefinitionsVersion + `)

sent_at          When our SMTP server accepted the inquiry (its 250 reply to DATA), on
                 our clock, UTC. The inquiry in PROBE/inquiry.eml is the message as
                 handed to SMTP.
sent_at_inferred true when a crash kept the 250 from being recorded and a reply citing
                 the probe (our Message-ID, its plus-address or its token; never a
                 thread or ticket-key match) proved the inquiry went out: sent_at is
                 then the moment noted just before the final "." of DATA, and
                 latencies count from it (at most the server's answer time to the "."
                 longer than the truth, never shorter). A probe a crash stopped before
                 that "." is failed (certainly not sent); one stopped after it, with no
                 such reply, is unknown and counts in no figure.
received_at      A reply's IMAP INTERNALDATE: when the vendor's mail reached our
                 mailbox, on the IMAP server's clock, whole seconds. Each reply is in
                 PROBE/REPLY.eml exactly as fetched.
header_date      The reply's Date header, set by the sender; kept for the record only,
                 never used in a figure.
detected_at      When supportprobe saw the reply, on our clock.
clock_skew       The IMAP server's clock minus ours, measured when the sent copy of the
                 inquiry was appended; null when it was not measured. Latencies subtract
                 it from received_at to put both ends on one clock.
received window  Only replies that arrived between sent_at and the deadline count. A
                 reply earlier than sent_at by more than 2 s (INTERNALDATE's whole
                 second plus the skew's uncertainty) cannot answer the inquiry and is
                 never a latency (listed as early); one within 2 s counts as arriving
                 at sent_at (latency 0). A reply after the deadline is recorded and
                 shown as late, and never makes the probe answered or its SLA met.
sign of life     From sent_at to the first reply of kind auto_ack or human, whichever
                 came first (a person's answer also acknowledges): what the ack
                 figures measure. ack latency (first_ack_at) is the first auto_ack
                 alone; how many probes got one at all is counted apart.
response latency From sent_at to the first reply of kind human by the deadline
                 (calendar time).
business latency The same span counted in the vendor's business hours only.
deadline         sent_at plus the probe's waiting time; with no person's answer by
                 then the probe is unanswered (late_response_at shows a later one).
sla              met: answered by the deadline within the first-response target of
                 the probe's priority, on the calendar or business clock named;
                 breached: answered after the target, or the target passed with no
                 answer; open: no answer yet, target not passed, deadline not reached;
                 open_breached: no answer yet, target passed, deadline not reached (a
                 breach, counted with the others); undecided: no answer by a deadline
                 that came before the target could pass (a business-clock target over
                 holidays, say): neither met nor breached, left out of the rate and
                 counted apart; none: no target, or the inquiry bounced or was never
                 sent. Every probe has met, breached, undecided or none by its
                 deadline.
kind             What a reply is: human, auto_ack, out_of_office, bounce, other, or
                 needs_review (the evidence was too weak to decide: counts as no
                 response until a person decides). A
                 person's decision (override, with its note and time) wins over the
                 classifier, whose reason stays recorded.
matched_by       The rung of the matching ladder that tied a reply to its probe,
                 strongest first: message_id (our Message-ID in In-Reply-To/References),
                 plus_address, thread, ticket_key, token; manual when a person linked it.
dkim             Each reply's DKIM signatures, checked when the reply arrived (keys
                 are rotated later, so a later check can fail or find no key): per
                 signature the signing domain (d=), selector (s=), the result (pass,
                 fail: the message changed after signing or does not match the key,
                 permerror: no key or a broken signature, temperror: the key lookup
                 failed and was retried in the background, for up to 72 h), and
                 aligned: whether the signing domain is, or is a parent or subdomain
                 of, one of the vendor's domains or support addresses' domains. A pass
                 by a domain that is not the vendor's (a third-party help desk) shows
                 only that the help desk sent it. none: the reply was not signed.
                 authentication_results is the receiving server's own topmost
                 Authentication-Results header, as written. The .eml files let anyone
                 repeat the check while the signer's key is still published.
truncated        The store keeps at most a fixed number of bytes of each message; a
                 longer message is cut there. The manifest then records truncated: true
                 and the message's original_size; its SHA-256 covers the kept bytes.
missing          A message the store does not hold (an inquiry never sent, say) is
                 listed under "missing" with the reason, not invented.

signature        manifest.json.sig is an SSH signature (OpenSSH's SSHSIG format,
                 namespace supportprobe-evidence) over manifest.json, made with the
                 Ed25519 key of the supportprobe instance that wrote the archive.
                 manifest.json holds the SHA-256 of every other file, so the signature
                 covers them all: change a message and its hash no longer matches;
                 change the hash too and the signature no longer matches. signer.pub
                 and the manifest's "signer" name the key, but a check means something
                 only against a public key obtained from the instance's operator
                 beforehand (supportprobe key prints it): whoever rewrote an archive
                 could sign it with a key of their own.

Every figure was measured as of generated_at in manifest.json from the stored records.
Check the archive with: supportprobe export --verify FILE.zip --key trusted.pub

Checking without supportprobe needs only the archive (here archive.zip), the public key
you were given (here trusted.pub, one line "ssh-ed25519 AAAA... supportprobe@ID"), and
the tools OpenSSH ssh-keygen, unzip, jq and sha256sum. In an empty directory:

  $ unzip -q archive.zip -d files
  $ printf 'supportprobe namespaces="supportprobe-evidence" %s\n' "$(cat trusted.pub)" > allowed_signers
  $ ssh-keygen -Y verify -f allowed_signers -I supportprobe -n supportprobe-evidence -s files/manifest.json.sig < files/manifest.json
  $ cd files && jq -r '.files[] | "\(.sha256)  \(.path)"' manifest.json | sha256sum --check --strict

ssh-keygen prints 'Good "supportprobe-evidence" signature for supportprobe with ED25519
key SHA256:...' and exits 0 only if the trusted key signed this manifest.json; sha256sum
prints OK for each file and exits 0 only if every file listed is there unchanged. Last,
every file in the archive (unzip -Z1 archive.zip) must be listed in manifest.json, except
manifest.json and manifest.json.sig themselves.
`

// Manifest is manifest.json.
type Manifest struct {
	FormatVersion      int       `json:"format_version"`
	GeneratedAt        time.Time `json:"generated_at"`
	Generator          string    `json:"generator"`
	DefinitionsVersion string    `json:"definitions_version"`
	// Signer names the key that signed the manifest (manifest.json.sig).
	Signer *Signer `json:"signer,omitempty"`
	// Selection says which probes were asked for, e.g. "--vendor acme-cloud".
	Selection string `json:"selection"`
	// Files lists every file of the archive except manifest.json itself, sorted by path.
	Files []File `json:"files"`
	// Missing lists the messages the store does not hold.
	Missing []Missing     `json:"missing"`
	Probes  []view.Record `json:"probes"`
	// Audit sums up audit.json when the archive holds one: the chain's head hash at
	// export time, pinned by the signature.
	Audit *AuditSummary `json:"audit,omitempty"`
}

// AuditSummary is the manifest's note of audit.json.
type AuditSummary struct {
	Head     string `json:"head"`
	Entries  int    `json:"entries"`
	Included int    `json:"included"`
}

// Signer is the key that signed a manifest, as recorded in it.
type Signer struct {
	// PublicKey is an authorized_keys line: "ssh-ed25519 AAAA... supportprobe@ID".
	PublicKey string `json:"public_key"`
	// Fingerprint is "SHA256:" and the unpadded base64 SHA-256 of the key, as ssh-keygen
	// prints it.
	Fingerprint string `json:"fingerprint"`
	// Namespace is the SSHSIG namespace the signature was made in.
	Namespace string `json:"signature_namespace"`
}

// File is one file of the archive.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Truncated says the stored message was cut, at the watcher's fetch limit (1 MiB) or
	// the store's cap: the file holds Size of OriginalSize bytes.
	Truncated    bool  `json:"truncated"`
	OriginalSize int64 `json:"original_size"`
}

// Missing is a message that would be in the archive had the store held it.
type Missing struct {
	Path   string `json:"path"`
	Probe  string `json:"probe"`
	Reply  string `json:"reply,omitempty"`
	Reason string `json:"reason"`
}

// Item is one probe to archive: its record and its raw messages.
type Item struct {
	Record view.Record
	// Inquiry is the inquiry as sent; nil when the store does not hold it.
	Inquiry *store.Raw
	// Replies holds the raw bytes of the record's replies by reply ID; a reply absent
	// (or nil) here is listed as missing.
	Replies map[string]*store.Raw
	// Followups holds the raw bytes of the follow-ups we sent, by their index in the
	// record; a sent follow-up absent here is listed as missing.
	Followups map[int]*store.Raw
	// Why gives the reason a message is missing, by "inquiry" or reply ID, when the
	// caller knows better than the default.
	Why map[string]string
}

// Meta describes the export as a whole.
type Meta struct {
	GeneratedAt time.Time
	Generator   string // "supportprobe v1.2.3"
	Selection   string
	// Key signs the manifest; required.
	Key *Key
	// Audit is the audit log's chain to include (AuditName); nil writes no audit.json.
	Audit *AuditFile
}

// AuditFile is the content of audit.json: every link of the audit chain, oldest first,
// with the entries that concern the exported probes in full (see the package comment).
type AuditFile struct {
	// Head is the hash of the last entry at export time ("" for an empty log); Entries
	// counts the links, Included those given in full.
	Head     string            `json:"head"`
	Entries  int               `json:"entries"`
	Included int               `json:"included"`
	Links    []probe.AuditLink `json:"links"`
	// Broken is the chain problem the exporter found, if any: the archive still carries
	// the chain as stored, so the verifier sees the same break.
	Broken string `json:"broken,omitempty"`
}

// NewAuditFile builds the audit.json content from the whole log (oldest first),
// including in full the entries that concern one of probes (by ID) or, for pauses and
// resumes, one of vendors.
func NewAuditFile(log []probe.Correction, probes, vendors []string) (*AuditFile, error) {
	af := &AuditFile{Links: []probe.AuditLink{}}
	for _, c := range log {
		full := slices.Contains(vendors, c.Vendor) && c.Vendor != ""
		for _, id := range probes {
			full = full || c.Concerns(id)
		}
		l, err := c.Link(full)
		if err != nil {
			return nil, err
		}
		if full {
			af.Included++
		}
		af.Links = append(af.Links, l)
		af.Head = c.Hash
	}
	af.Entries = len(af.Links)
	if err := probe.VerifyChain(af.Links); err != nil {
		af.Broken = err.Error()
	}
	return af, nil
}

// Result is what Write wrote.
type Result struct {
	Manifest Manifest
	// ManifestSHA256 is the hash of manifest.json, worth keeping apart from the archive:
	// it pins every other file.
	ManifestSHA256 string
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Write writes the archive of items to w, probes in the order given, and signs its
// manifest with meta.Key.
func Write(w io.Writer, items []Item, meta Meta) (Result, error) {
	if meta.Key == nil {
		return Result{}, errors.New("evidence: no signing key given; an archive is never written unsigned")
	}
	gen := meta.GeneratedAt.UTC()
	m := Manifest{
		FormatVersion: FormatVersion, GeneratedAt: gen, Generator: meta.Generator,
		DefinitionsVersion: DefinitionsVersion, Selection: meta.Selection,
		Signer: &Signer{PublicKey: meta.Key.AuthorizedKey(), Fingerprint: meta.Key.Fingerprint(), Namespace: SignatureNamespace},
		Files:  []File{}, Missing: []Missing{}, Probes: []view.Record{},
	}
	contents := map[string][]byte{}
	add := func(path string, data []byte, truncated bool, original int) {
		contents[path] = data
		m.Files = append(m.Files, File{Path: path, SHA256: sum(data), Size: int64(len(data)),
			Truncated: truncated, OriginalSize: int64(original)})
	}
	addRaw := func(path, probeID, replyID string, raw *store.Raw, why string) {
		if raw == nil {
			m.Missing = append(m.Missing, Missing{Path: path, Probe: probeID, Reply: replyID, Reason: why})
			return
		}
		original := raw.Size
		if !raw.Truncated && original < len(raw.Data) {
			original = len(raw.Data)
		}
		add(path, raw.Data, raw.Truncated, original)
	}
	seen := map[string]bool{}
	for _, it := range items {
		id := it.Record.ID
		if !safeName.MatchString(id) {
			return Result{}, fmt.Errorf("evidence: probe id %q cannot name a directory", id)
		}
		if seen[id] {
			return Result{}, fmt.Errorf("evidence: probe %s given twice", id)
		}
		seen[id] = true
		m.Probes = append(m.Probes, it.Record)

		why := it.Why["inquiry"]
		if why == "" {
			why = inquiryMissing(it.Record)
		}
		addRaw(id+"/inquiry.eml", id, "", it.Inquiry, why)
		known := map[string]bool{}
		for _, rp := range it.Record.Replies {
			if !safeName.MatchString(rp.ID) || rp.ID == "inquiry" {
				return Result{}, fmt.Errorf("evidence: probe %s: reply id %q cannot name a file", id, rp.ID)
			}
			if known[rp.ID] {
				return Result{}, fmt.Errorf("evidence: probe %s: reply %s given twice", id, rp.ID)
			}
			known[rp.ID] = true
			why := it.Why[rp.ID]
			if why == "" {
				why = "the store holds no raw message for this reply"
			}
			addRaw(id+"/"+rp.ID+".eml", id, rp.ID, it.Replies[rp.ID], why)
		}
		for _, f := range it.Record.Followups {
			if f.SentAt == nil && f.State != probe.StateSending && f.State != probe.StateUnknown {
				continue // skipped or failed: nothing went out
			}
			addRaw(fmt.Sprintf("%s/followup-%d.eml", id, f.Index), id, "", it.Followups[f.Index],
				"the store holds no raw copy of this follow-up")
		}
		for rid := range it.Replies {
			if !known[rid] {
				return Result{}, fmt.Errorf("evidence: probe %s: raw message for reply %s, which is not in its record", id, rid)
			}
		}
	}
	add(DefinitionsName, []byte(Definitions), false, len(Definitions))
	if meta.Audit != nil {
		aj, err := json.MarshalIndent(meta.Audit, "", "  ")
		if err != nil {
			return Result{}, fmt.Errorf("evidence: encode %s: %w", AuditName, err)
		}
		aj = append(aj, '\n')
		add(AuditName, aj, false, len(aj))
		m.Audit = &AuditSummary{Head: meta.Audit.Head, Entries: meta.Audit.Entries, Included: meta.Audit.Included}
	}
	pub := []byte(meta.Key.AuthorizedKey() + "\n")
	add(SignerKeyName, pub, false, len(pub))
	byPath := func(a, b File) int { return strings.Compare(a.Path, b.Path) }
	slices.SortFunc(m.Files, byPath)
	// The summary lists the other files, so it is written after them and cannot list
	// its own hash; the manifest carries that.
	summary := writeSummary(m)
	add(SummaryName, summary, false, len(summary))
	slices.SortFunc(m.Files, byPath)

	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, fmt.Errorf("evidence: encode manifest: %w", err)
	}
	mj = append(mj, '\n')
	contents[ManifestName] = mj
	sig, err := signSSHSIG(meta.Key, mj)
	if err != nil {
		return Result{}, err
	}
	contents[SignatureName] = sig

	names := make([]string, 0, len(contents))
	for name := range contents {
		names = append(names, name)
	}
	slices.Sort(names)
	zw := zip.NewWriter(w)
	for _, name := range names {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: gen}
		h.SetMode(0o644)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return Result{}, fmt.Errorf("evidence: %s: %w", name, err)
		}
		if _, err := fw.Write(contents[name]); err != nil {
			return Result{}, fmt.Errorf("evidence: %s: %w", name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return Result{}, fmt.Errorf("evidence: %w", err)
	}
	return Result{Manifest: m, ManifestSHA256: sum(mj)}, nil
}

func inquiryMissing(r view.Record) string {
	if r.SentAt == nil {
		s := fmt.Sprintf("the inquiry was never sent (status %s", r.Status)
		if r.FailReason != nil {
			s += ": " + *r.FailReason
		}
		return s + ")"
	}
	return "the store holds no raw copy of the inquiry"
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// writeSummary renders the manifest for people.
func writeSummary(m Manifest) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Evidence archive written by %s at %s\n", m.Generator, m.GeneratedAt.Format(time.RFC3339))
	if m.Selection != "" {
		fmt.Fprintf(&b, "Selection: %s\n", m.Selection)
	}
	fmt.Fprintf(&b, "Definitions: %s (see %s)\n", m.DefinitionsVersion, DefinitionsName)
	fmt.Fprintf(&b, "Probes: %d; messages: %d; missing: %d\n", len(m.Probes), countEML(m.Files), len(m.Missing))
	if m.Audit != nil {
		fmt.Fprintf(&b, "Audit log (%s): %d entries chained by SHA-256, %d of them concerning these probes given in full; head %s\n",
			AuditName, m.Audit.Entries, m.Audit.Included, m.Audit.Head)
	}
	if m.Signer != nil {
		fmt.Fprintf(&b, "Signed (%s) by key %s, %s\n", SignatureName, m.Signer.Fingerprint, m.Signer.PublicKey)
	}
	fmt.Fprintf(&b, "Figures are measured as of the time above. Verify with: supportprobe export --verify FILE.zip --key TRUSTED.pub\n")
	for _, r := range m.Probes {
		fmt.Fprintf(&b, "\n==== %s ====\n", r.ID)
		view.WriteThread(&b, r) // writes to a bytes.Buffer cannot fail
		if r.ClockSkewSeconds != nil {
			fmt.Fprintf(&b, "Clock skew (IMAP server minus ours): %gs\n", *r.ClockSkewSeconds)
		} else {
			fmt.Fprintf(&b, "Clock skew: not measured\n")
		}
	}
	fmt.Fprintf(&b, "\nFiles (SHA-256):\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, f := range m.Files {
		note := ""
		if f.Truncated {
			note = fmt.Sprintf("  TRUNCATED: %d of %d bytes kept (store cap)", f.Size, f.OriginalSize)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d bytes%s\n", f.Path, f.SHA256, f.Size, note)
	}
	tw.Flush()
	if len(m.Missing) > 0 {
		fmt.Fprintf(&b, "\nMissing messages:\n")
		for _, x := range m.Missing {
			fmt.Fprintf(&b, "  %s: %s\n", x.Path, x.Reason)
		}
	}
	fmt.Fprintf(&b, "\n%s lists the SHA-256 of every file above and of this summary.\n", ManifestName)
	return b.Bytes()
}

func countEML(fs []File) int {
	n := 0
	for _, f := range fs {
		if strings.HasSuffix(f.Path, ".eml") {
			n++
		}
	}
	return n
}

// Problem is one thing wrong with an archive, naming the file.
type Problem struct {
	Path string
	What string
}

func (p Problem) String() string { return p.Path + ": " + p.What }

// Report is what Verify found.
type Report struct {
	Manifest       Manifest
	ManifestSHA256 string
	// Checked counts the files whose hash matched.
	Checked int
	// Signed says manifest.json.sig is a valid signature over manifest.json, by the
	// trusted key when Verify was given one, else by the key the signature names.
	Signed bool
	// SignerFingerprint is the fingerprint of the key named in the signature ("" when
	// there is no readable signature).
	SignerFingerprint string
	// Trusted says the signature was checked against a key the verifier supplied.
	Trusted  bool
	Problems []Problem
}

// OK reports whether every file matched the manifest and the signature is valid.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Err returns nil when r is OK, else an error listing every problem.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	var lines []string
	for _, p := range r.Problems {
		lines = append(lines, p.String())
	}
	return errors.New(strings.Join(lines, "\n"))
}

// Verify re-reads the archive in r and checks the signature of manifest.json and every
// file against it: its SHA-256 and size, and that the archive holds exactly the files
// listed (empty directory entries, which zip -r adds, are not files and are passed
// over). With trusted not nil the signature must be by that key; with nil it is checked
// against the key it names, which shows only that the archive is whole, not who wrote it
// (the caller must compare Report.SignerFingerprint with one it trusts). Mismatches, an
// invalid or missing signature among them, are Problems in the Report, each naming its
// file; the error is for an archive that cannot be checked at all (not a zip, no
// readable manifest).
func Verify(r io.ReaderAt, size int64, trusted ed25519.PublicKey) (Report, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Report{}, fmt.Errorf("not a readable zip archive: %w", err)
	}
	var rep Report
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if dirEntry(f) {
			continue
		}
		if entries[f.Name] != nil {
			rep.Problems = append(rep.Problems, Problem{f.Name, "appears more than once in the archive"})
			continue
		}
		entries[f.Name] = f
	}
	mf := entries[ManifestName]
	if mf == nil {
		return rep, fmt.Errorf("%s: not in the archive", ManifestName)
	}
	mj, err := readManifest(mf)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", ManifestName, err)
	}
	rep.ManifestSHA256 = sum(mj)
	dec := json.NewDecoder(bytes.NewReader(mj))
	if err := dec.Decode(&rep.Manifest); err != nil {
		return rep, fmt.Errorf("%s: %w", ManifestName, err)
	}
	v := rep.Manifest.FormatVersion
	if v != FormatVersion && v != 1 {
		return rep, fmt.Errorf("%s: format_version %d, this supportprobe reads 1 to %d", ManifestName, v, FormatVersion)
	}
	rep.Trusted = trusted != nil
	rep.Problems = append(rep.Problems, checkSignature(&rep, entries, mj, trusted)...)
	listed := map[string]bool{ManifestName: true, SignatureName: true}
	for _, f := range rep.Manifest.Files {
		if listed[f.Path] {
			rep.Problems = append(rep.Problems, Problem{f.Path, "listed more than once in the manifest"})
			continue
		}
		listed[f.Path] = true
		e := entries[f.Path]
		if e == nil {
			rep.Problems = append(rep.Problems, Problem{f.Path, "listed in the manifest but not in the archive"})
			continue
		}
		got, n, err := hashEntry(e)
		if err != nil {
			rep.Problems = append(rep.Problems, Problem{f.Path, "cannot be read: " + err.Error()})
			continue
		}
		switch {
		case !strings.EqualFold(got, f.SHA256):
			rep.Problems = append(rep.Problems, Problem{f.Path,
				fmt.Sprintf("SHA-256 mismatch (manifest %s, file %s)", short(f.SHA256), short(got))})
		case n != f.Size:
			rep.Problems = append(rep.Problems, Problem{f.Path,
				fmt.Sprintf("size mismatch (manifest %d bytes, file %d)", f.Size, n)})
		default:
			rep.Checked++
		}
	}
	if af := entries[AuditName]; af != nil && listed[AuditName] {
		rep.Problems = append(rep.Problems, checkAudit(af, rep.Manifest.Audit)...)
	}
	for _, f := range zr.File {
		if !listed[f.Name] && !dirEntry(f) {
			rep.Problems = append(rep.Problems, Problem{f.Name, "in the archive but not listed in the manifest"})
			listed[f.Name] = true // once per name
		}
	}
	return rep, nil
}

// checkAudit verifies the hash chain in audit.json and that its head is the one the
// manifest names.
func checkAudit(f *zip.File, sum *AuditSummary) []Problem {
	rc, err := f.Open()
	if err != nil {
		return []Problem{{AuditName, "cannot be read: " + err.Error()}}
	}
	defer rc.Close()
	var af AuditFile
	if err := json.NewDecoder(io.LimitReader(rc, 1<<30)).Decode(&af); err != nil {
		return []Problem{{AuditName, "not a readable audit chain: " + err.Error()}}
	}
	var out []Problem
	if err := probe.VerifyChain(af.Links); err != nil {
		out = append(out, Problem{AuditName, err.Error()})
	}
	head := ""
	if n := len(af.Links); n > 0 {
		head = af.Links[n-1].Hash
	}
	if head != af.Head || len(af.Links) != af.Entries {
		out = append(out, Problem{AuditName, fmt.Sprintf("its head (%s, %d entries) is not that of its last link (%s, %d)", short(af.Head), af.Entries, short(head), len(af.Links))})
	}
	if sum == nil {
		out = append(out, Problem{AuditName, "in the archive but the manifest has no audit summary"})
	} else if sum.Head != head || sum.Entries != len(af.Links) {
		out = append(out, Problem{AuditName, fmt.Sprintf("the manifest names head %s of %d entries, the file ends at %s after %d", short(sum.Head), sum.Entries, short(head), len(af.Links))})
	}
	return out
}

// checkSignature checks manifest.json.sig over the manifest bytes mj and that the
// manifest and signer.pub name the key that signed, filling rep's signature fields.
func checkSignature(rep *Report, entries map[string]*zip.File, mj []byte, trusted ed25519.PublicKey) []Problem {
	se := entries[SignatureName]
	if se == nil {
		why := "not in the archive: the archive is unsigned, so nothing shows which instance wrote it or that the manifest is its own"
		if rep.Manifest.FormatVersion == 1 {
			why += " (format 1, written before supportprobe signed archives)"
		}
		return []Problem{{SignatureName, why}}
	}
	sig, err := readManifest(se)
	if err != nil {
		return []Problem{{SignatureName, "cannot be read: " + err.Error()}}
	}
	pub, err := verifySSHSIG(sig, mj, trusted)
	if pub != nil {
		rep.SignerFingerprint = Fingerprint(pub)
	}
	if err != nil {
		return []Problem{{SignatureName, err.Error()}}
	}
	rep.Signed = true
	var ps []Problem
	switch s := rep.Manifest.Signer; {
	case s == nil:
		ps = append(ps, Problem{ManifestName, "names no signer, yet is signed by key " + rep.SignerFingerprint})
	case s.Fingerprint != rep.SignerFingerprint:
		ps = append(ps, Problem{ManifestName, fmt.Sprintf("names signer %s but is signed by key %s", s.Fingerprint, rep.SignerFingerprint)})
	}
	if e := entries[SignerKeyName]; e != nil {
		b, err := readManifest(e)
		if err == nil {
			var k ed25519.PublicKey
			if k, err = ParsePublicKey(b); err == nil && !k.Equal(pub) {
				err = fmt.Errorf("holds key %s, not the signing key %s", Fingerprint(k), rep.SignerFingerprint)
			}
		}
		if err != nil {
			ps = append(ps, Problem{SignerKeyName, err.Error()})
		}
	}
	return ps
}

// maxManifest bounds the manifest read into memory.
const maxManifest = 256 << 20

// readManifest reads the manifest entry; the zip reader checks its CRC-32 at the end.
func readManifest(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxManifest+1))
	if err == nil && len(b) > maxManifest {
		err = fmt.Errorf("larger than %d bytes", maxManifest)
	}
	return b, err
}

// hashEntry streams an entry through SHA-256 and returns the hex hash and the size; the
// zip reader checks its CRC-32 at the end.
func hashEntry(f *zip.File) (string, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// dirEntry says whether f is an empty directory entry ("P1/"), which an archive unzipped
// and zipped again by hand (zip -r) gains: it holds no evidence, so Verify passes over
// it. A directory-named entry with content is not passed over.
func dirEntry(f *zip.File) bool {
	return strings.HasSuffix(f.Name, "/") && f.UncompressedSize64 == 0
}
