package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"supportprobe/configs"
)

const initSynopsis = `init [--out FILE]

Writes a commented example configuration to start from, with mode 0600, and prints
what to do next. It never overwrites: when FILE exists, init changes nothing and exits
2 (a usage error: choose another --out, or remove the file). --out - writes the
example to standard output instead.`

const initExample = `  supportprobe init --out /etc/supportprobe/supportprobe.yaml
  supportprobe init --out - | less`

// defaultInitPath is where init writes when --out is not given.
const defaultInitPath = "supportprobe.yaml"

func initCmd(_ context.Context, e *env, args []string) error {
	flags := newFlags(e, "init", initSynopsis, initExample)
	out := flags.String("out", defaultInitPath, "`file` to write; - for standard output")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return usagef("unexpected argument %q; init takes only flags (write to a file with --out FILE)", flags.Arg(0))
	}
	if *out == "" {
		return usagef("--out is empty; name a file, or - for standard output")
	}
	if *out == "-" {
		_, err := e.stdout.Write(configs.Example)
		return err
	}
	if err := writeNewFile(*out, configs.Example); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, initNextSteps, *out)
	return nil
}

const initNextSteps = `Wrote %[1]s (mode 0600).

Next:
  1. Edit it: your mailbox (mail.from, mail.smtp, mail.imap), the scripts, and the
     vendors with their support addresses, hours, SLAs and schedules.
  2. Set up the passwords it names: the file in mail.smtp.password_file (one line,
     mode 0600) and the variable in mail.imap.password_env (for a systemd service,
     in /etc/supportprobe/env).
  3. Check it, logging in to both mail servers:
       supportprobe check --config %[1]s --connect
  4. Start the daemon:
       supportprobe run --config %[1]s
`

// writeNewFile writes data to a new file at path with mode 0600. It refuses to replace
// an existing file with a usage error, and removes what it wrote when writing fails.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return usagef("%s already exists; init never overwrites: choose another file with --out, or remove %s first", path, path)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
