package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/evidence"
	"supportprobe/store"
)

const exportSynopsis = `export [--config FILE] [--probe ID | --vendor V --since T --until T] --out FILE.zip [--force]
       export --verify FILE.zip [--key TRUSTED.pub | --fingerprint SHA256:...]

Writes a verifiable evidence archive: for each probe the inquiry exactly as sent
(PROBE/inquiry.eml) and every reply exactly as fetched (PROBE/REPLY.eml), byte for byte
from the store; manifest.json with each file's SHA-256, the probes' figures (as in
` + "`history --format json`" + `, measured now) and the version of the definitions used;
DEFINITIONS.txt, which says what the figures mean; and summary.txt for people. The
manifest is signed with this instance's Ed25519 key (manifest.json.sig, an SSH signature;
the public key is in signer.pub): the key is made in the state directory at the first
export or by ` + "`supportprobe key`" + `, and must be backed up with the database. A message
the store cut at its size cap is marked truncated with its original size; a message the
store does not hold (an inquiry never sent) is listed as missing with the reason.

--since and --until select by the time the probe was created, as in history. Without
--probe or --vendor every probe in the period is exported. An existing --out file is
never replaced without --force.

--verify re-reads an archive, checks the signature of manifest.json and every file
against it: its SHA-256, and that no file was added or removed (directory entries,
which an archive unzipped and zipped again by hand gains, are not files). It names each file
that differs and exits 1. It prints the fingerprint of the signing key. With --key
(the public key ` + "`supportprobe key`" + ` printed, handed over beforehand) or
--fingerprint the archive must be signed by that key; without either, the signature
only shows the archive is whole, since anyone rewriting it could sign it with a key of
their own: compare the fingerprint printed with the one you trust. --verify needs no
configuration.`

const exportExample = `  supportprobe export --probe P17 --out P17.zip
  supportprobe export --vendor acme-cloud --since 2026-11-01 --until 2026-12-01 --out acme-november.zip
  supportprobe export --verify acme-november.zip --key supportprobe.pub`

func exportCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", exportSynopsis, exportExample)
	load := configFlag(fs, e)
	var probeID, since, until, out, verify, keyFile, fingerprint string
	var f store.Filter
	fs.StringVar(&probeID, "probe", "", "export only this probe `ID`")
	fs.StringVar(&f.Vendor, "vendor", "", "only this `vendor`")
	fs.StringVar(&since, "since", "", "only probes created at or after `time`")
	fs.StringVar(&until, "until", "", "only probes created before `time`")
	fs.StringVar(&out, "out", "", "write the archive to `file` (.zip)")
	fs.StringVar(&verify, "verify", "", "check the archive `file` instead of writing one")
	force := fs.Bool("force", false, "replace the --out file when it exists")
	fs.StringVar(&keyFile, "key", "", "with --verify: the archive must be signed by the public key in `file`")
	fs.StringVar(&fingerprint, "fingerprint", "", "with --verify: the archive must be signed by the key with this `SHA256:...` fingerprint")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; export takes only flags (to export one probe: --probe ID)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if verify != "" {
		for _, name := range []string{"probe", "vendor", "since", "until", "out", "force"} {
			if set[name] {
				return usagef("--verify checks an archive; it takes no --%s", name)
			}
		}
		if keyFile != "" && fingerprint != "" {
			return usagef("give --key or --fingerprint, not both")
		}
		var trusted ed25519.PublicKey
		if keyFile != "" {
			b, err := os.ReadFile(keyFile)
			if err != nil {
				return fmt.Errorf("read trusted public key: %w", err)
			}
			if trusted, err = evidence.ParsePublicKey(b); err != nil {
				return usagef("--key %s: %v", keyFile, err)
			}
		}
		if fingerprint != "" && !strings.HasPrefix(fingerprint, "SHA256:") {
			return usagef("--fingerprint %q: want the form SHA256:... that `supportprobe key` and ssh-keygen -l print", fingerprint)
		}
		return runVerify(e, verify, trusted, fingerprint)
	}
	for _, name := range []string{"key", "fingerprint"} {
		if set[name] {
			return usagef("--%s goes with --verify FILE.zip", name)
		}
	}
	probeID = canonicalID(probeID)
	if out == "" {
		return usagef("--out FILE.zip is required (or --verify FILE.zip to check an archive)")
	}
	if _, err := os.Lstat(out); err == nil && !*force {
		return usagef("%s exists; nothing written (an archive is evidence: name a new file, or replace it with --force)", out)
	}
	if probeID != "" && (set["vendor"] || set["since"] || set["until"]) {
		return usagef("--probe names one probe; it takes no --vendor, --since or --until")
	}
	var err error
	if f.Since, err = parseTimeFlag("since", since); err != nil {
		return err
	}
	if f.Until, err = parseTimeFlag("until", until); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if f.Vendor != "" {
		if _, ok := cfg.Vendor(f.Vendor); !ok {
			fmt.Fprintf(e.stderr, "supportprobe: note: vendor %q is not in %s\n", f.Vendor, cfg.Path)
		}
	}
	src, err := openSource(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer src.Close()
	// The key file is apart from the database, so it is read here whether or not the
	// daemon runs (the records come through its socket when it does).
	key, err := signingKey(e, cfg.StateDir)
	if err != nil {
		return err
	}
	return runExport(ctx, e, src, exportOpts{probe: probeID, filter: f, out: out, selection: selection(probeID, f), key: key})
}

// signingKey loads the state directory's evidence signing key, making it (and saying so)
// the first time.
func signingKey(e *env, stateDir string) (*evidence.Key, error) {
	key, created, err := evidence.LoadOrCreateKey(stateDir)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(e.stderr, "supportprobe: created the evidence signing key %s (fingerprint %s); back it up with the database: archives signed with it can be checked only with its public key\n",
			filepath.Join(stateDir, evidence.KeyFileName), key.Fingerprint())
	}
	return key, nil
}

type exportOpts struct {
	probe     string
	filter    store.Filter
	out       string
	selection string
	key       *evidence.Key
}

// exportSource is the part of daemon.Source that export needs.
type exportSource interface {
	Probes(ctx context.Context, f store.Filter) ([]probe.Probe, error)
	Probe(ctx context.Context, id string) (probe.Probe, error)
	Raw(ctx context.Context, kind, id string) (store.Raw, error)
	AuditLog(ctx context.Context) ([]probe.Correction, error)
}

func selection(probeID string, f store.Filter) string {
	if probeID != "" {
		return "--probe " + probeID
	}
	var parts []string
	if f.Vendor != "" {
		parts = append(parts, "--vendor "+f.Vendor)
	}
	if !f.Since.IsZero() {
		parts = append(parts, "--since "+f.Since.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "--until "+f.Until.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if len(parts) == 0 {
		return "all probes"
	}
	return strings.Join(parts, " ")
}

func runExport(ctx context.Context, e *env, src exportSource, o exportOpts) error {
	var ps []probe.Probe
	if o.probe != "" {
		p, err := src.Probe(ctx, o.probe)
		if err != nil {
			return err
		}
		ps = []probe.Probe{p}
	} else {
		var err error
		if ps, err = src.Probes(ctx, o.filter); err != nil {
			return err
		}
		if len(ps) == 0 {
			return fmt.Errorf("no probes match %s; nothing exported: %w", o.selection, store.ErrNotFound)
		}
	}
	// The zip keeps whole seconds; the figures are measured at the same instant.
	now := e.now().UTC().Truncate(time.Second)
	items, audit, err := evidence.Collect(ctx, src, ps, now)
	if err != nil {
		return err
	}
	if audit.Broken != "" {
		fmt.Fprintf(e.stderr, "warning: %s; the archive carries the log as stored, so `export --verify` reports the same break (see `supportprobe audit`)\n", audit.Broken)
	}

	// Write beside the destination and rename, so a failed export leaves no half archive.
	tmp, err := os.CreateTemp(filepath.Dir(o.out), ".export-*.zip.tmp")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	res, err := evidence.Write(tmp, items, evidence.Meta{GeneratedAt: now, Generator: "supportprobe " + version, Selection: o.selection, Key: o.key, Audit: audit})
	if err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("export: %s: %w", o.out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: %s: %w", o.out, err)
	}
	if err := os.Rename(tmp.Name(), o.out); err != nil {
		return fmt.Errorf("export: %w", err)
	}

	m := res.Manifest
	msgs, truncated := 0, 0
	for _, f := range m.Files {
		if strings.HasSuffix(f.Path, ".eml") {
			msgs++
		}
		if f.Truncated {
			truncated++
		}
	}
	fmt.Fprintf(e.stdout, "wrote %s: %s, %s", o.out, plural(len(m.Probes), "probe", "probes"), plural(msgs, "message", "messages"))
	if truncated > 0 {
		fmt.Fprintf(e.stdout, " (%d truncated at the store's cap)", truncated)
	}
	fmt.Fprintln(e.stdout)
	for _, x := range m.Missing {
		fmt.Fprintf(e.stdout, "  missing %s: %s\n", x.Path, x.Reason)
	}
	fmt.Fprintf(e.stdout, "manifest.json SHA-256 %s (keep it apart from the archive to pin every file)\n", res.ManifestSHA256)
	fmt.Fprintf(e.stdout, "signed by key %s (supportprobe key prints the public key to hand over)\n", o.key.Fingerprint())
	return nil
}

func runVerify(e *env, path string, trusted ed25519.PublicKey, fingerprint string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := evidence.Verify(f, st.Size(), trusted)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if fingerprint != "" && rep.Signed && rep.SignerFingerprint != fingerprint {
		rep.Problems = append(rep.Problems, evidence.Problem{Path: evidence.SignatureName,
			What: fmt.Sprintf("signed by key %s, not by the trusted key %s", rep.SignerFingerprint, fingerprint)})
	}
	if !rep.OK() {
		var lines []string
		for _, p := range rep.Problems {
			lines = append(lines, "  "+p.String())
		}
		return fmt.Errorf("%s: verification FAILED (%s, %s intact):\n%s",
			path, plural(len(rep.Problems), "problem", "problems"), plural(rep.Checked, "file", "files"), strings.Join(lines, "\n"))
	}
	m := rep.Manifest
	match := "match"
	if rep.Checked == 1 {
		match = "matches"
	}
	fmt.Fprintf(e.stdout, "%s: OK: %s %s manifest.json\n", path, plural(rep.Checked, "file", "files"), match)
	switch {
	case trusted != nil:
		fmt.Fprintf(e.stdout, "  signature good, by the trusted key %s\n", rep.SignerFingerprint)
	case fingerprint != "":
		fmt.Fprintf(e.stdout, "  signature good, by the trusted key %s (matched by fingerprint)\n", rep.SignerFingerprint)
	default:
		fmt.Fprintf(e.stdout, "  signature good, by key %s: the key the archive names; compare this fingerprint with the one you were given, or pass --key\n", rep.SignerFingerprint)
	}
	fmt.Fprintf(e.stdout, "  written by %s at %s; %s (%s); definitions %s\n",
		m.Generator, m.GeneratedAt.Format("2006-01-02T15:04:05Z07:00"), plural(len(m.Probes), "probe", "probes"), m.Selection, m.DefinitionsVersion)
	switch {
	case m.Audit != nil && m.Audit.Entries == 0:
		fmt.Fprintf(e.stdout, "  audit log: empty at export\n")
	case m.Audit != nil:
		fmt.Fprintf(e.stdout, "  audit chain verified: %d entries, %d concerning these probes in full, head %s\n", m.Audit.Entries, m.Audit.Included, m.Audit.Head)
	default:
		fmt.Fprintf(e.stdout, "  no audit log in this archive (written before supportprobe exported it)\n")
	}
	for _, x := range m.Missing {
		fmt.Fprintf(e.stdout, "  recorded as missing: %s: %s\n", x.Path, x.Reason)
	}
	fmt.Fprintf(e.stdout, "  manifest.json SHA-256 %s\n", rep.ManifestSHA256)
	return nil
}
