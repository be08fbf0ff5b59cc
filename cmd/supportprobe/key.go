package main

import (
	"context"
	"fmt"
	"path/filepath"

	"supportprobe/probe/evidence"
)

const keySynopsis = `key [--config FILE] [--format ssh|pem]

Prints the public half of the Ed25519 key this instance signs its evidence archives
with, so that it can be handed to the other party or a lawyer before any dispute: an
archive checks out against this key only if this instance wrote it and nothing in it
changed since. --format ssh (the default) prints one OpenSSH authorized_keys line
("ssh-ed25519 AAAA... supportprobe@ID"), which ` + "`export --verify --key`" + ` and
ssh-keygen -Y verify read; --format pem prints a PEM PUBLIC KEY, which openssl reads.
The fingerprint goes to stderr.

The key lives in the state directory (evidence-key, mode 0600, and evidence-key.pub);
this command makes it if there is none yet. Back it up with the database: a new key
cannot vouch for archives signed by the old one. The private key is never printed.`

const keyExample = `  supportprobe key > supportprobe.pub
  supportprobe key --format pem > supportprobe.pem`

func keyCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "key", keySynopsis, keyExample)
	load := configFlag(fs, e)
	format := fs.String("format", "ssh", "print the public key as `ssh` (authorized_keys line) or pem")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; key takes only flags", fs.Arg(0))
	}
	if *format != "ssh" && *format != "pem" {
		return usagef("--format %q: want ssh or pem", *format)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	key, err := signingKey(e, cfg.StateDir)
	if err != nil {
		return err
	}
	if *format == "pem" {
		b, err := evidence.PublicPEM(key.Public())
		if err != nil {
			return err
		}
		if _, err := e.stdout.Write(b); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.stdout, key.AuthorizedKey())
	}
	fmt.Fprintf(e.stderr, "fingerprint %s (key %s)\n", key.Fingerprint(), filepath.Join(cfg.StateDir, evidence.KeyFileName))
	return nil
}
