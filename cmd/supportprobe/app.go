package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"supportprobe/configs"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes, mapped from errors in exitCode and listed in the top-level help.
const (
	exitOK       = 0
	exitFailure  = 1 // anything else: a server, the file system, a bug
	exitUsage    = 2 // bad flags or arguments
	exitConfig   = 3 // the configuration file is missing or invalid
	exitNotFound = 4 // the probe or reply named does not exist
	exitBusy     = 5 // another daemon holds the state directory or database
)

// usageError is a mistake on the command line; its message says what to type instead.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errConfig marks configuration problems for exitCode.
var errConfig = errors.New("configuration")

func exitCode(err error) int {
	var ue usageError
	var ce *configs.Error
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ce), errors.Is(err, errConfig), errors.Is(err, daemon.ErrReloadRefused):
		return exitConfig
	case errors.Is(err, store.ErrNotFound), errors.Is(err, daemon.ErrUnknownVendor):
		return exitNotFound
	case errors.Is(err, daemon.ErrBusy), errors.Is(err, store.ErrLocked):
		return exitBusy
	default:
		return exitFailure
	}
}

// command is one subcommand: its name, a one-line summary for the overview, and its
// entry point, which parses its own flags.
type command struct {
	name, summary string
	main          func(ctx context.Context, env *env, args []string) error
}

// env is what every subcommand gets from the process: output streams, the clock and the
// environment, injected so tests run subcommands in-process.
type env struct {
	stdout, stderr io.Writer
	// stdin is where interactive commands (review) read answers, and terminal says
	// whether a reader is an interactive terminal; nil stdin means none.
	stdin    io.Reader
	terminal func(io.Reader) bool
	now      func() time.Time
	getenv   func(string) string
	// followupInterval overrides how often `run` looks for due follow-ups (tests);
	// zero keeps the daemon's default.
	followupInterval time.Duration
	// alertInterval overrides the longest `run` goes without looking for situations to
	// alert on (tests; daemon.Options.AlertInterval).
	alertInterval time.Duration
	// smtpBackoff and smtpRetryWindow override the SMTP retry timing of `run` (tests);
	// zero keeps the sender's defaults.
	smtpBackoff, smtpRetryWindow time.Duration
	// dnsResolver sends the DKIM key lookups of `run` to this DNS server (tests, which
	// serve their own keys on loopback); "" uses the system's resolver.
	dnsResolver string
}

func commands() []command {
	return []command{
		{"demo", "the whole loop against simulated vendors, then a report", demoCmd},
		{"run", "start the daemon: probe on schedule, watch for replies", runCmd},
		{"init", "write a commented example configuration to start from", initCmd},
		{"check", "validate the configuration and show upcoming probes", checkCmd},
		{"login", "sign a company mailbox in with OAuth 2.0 (device code) for auth: oauth2", loginCmd},
		{"send", "send one inquiry to a vendor now", sendCmd},
		{"pause", "stop a vendor's scheduled probes for a while; alone, list pauses", pauseCmd},
		{"resume", "end a vendor's pause set by hand", resumeCmd},
		{"history", "list probes with their status and latencies", historyCmd},
		{"show", "print one probe and its whole thread", showCmd},
		{"report", "figures of a period: latencies, SLA attainment, breaches", reportCmd},
		{"export", "write a verifiable evidence archive of probes and their mail", exportCmd},
		{"key", "print the public key that signs evidence archives", keyCmd},
		{"inbox", "list inbound mail; --unmatched for mail no probe matched", inboxCmd},
		{"mark", "correct a reply's kind by hand", markCmd},
		{"review", "decide the replies the classifier was unsure of", reviewCmd},
		{"link", "tie an inbound message to a probe by hand", linkCmd},
		{"alerts", "list the alert log, or send a test alert", alertsCmd},
		{"status", "is the daemon up, and what needs a person now", statusCmd},
		{"reload", "make the running daemon re-read its configuration", reloadCmd},
		{"audit", "list the hash-chained audit log and verify it", auditCmd},
	}
}

const topUsage = `supportprobe measures how fast vendors' support teams really answer.

Usage:
  supportprobe <command> [flags]
  supportprobe <command> --help     help and examples for one command
  supportprobe --version

Commands:
%s
Configuration is read from --config, else $SUPPORTPROBE_CONFIG, else
%s.

Exit codes:
  0  success
  1  failure (a server, the file system)
  2  usage error: bad flags or arguments
  3  the configuration file is missing or invalid
  4  the probe or reply named does not exist
  5  another supportprobe daemon holds the state directory
`

func writeTopUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, topUsage, b.String(), defaultConfigPath)
}

// run is the whole program behind main: it dispatches to a subcommand and maps its error
// to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, stdin: os.Stdin, terminal: isTerminal, now: time.Now, getenv: os.Getenv}
	return e.run(ctx, args)
}

func (e *env) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		writeTopUsage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		writeTopUsage(e.stdout)
		return exitOK
	case "--version", "-version", "version":
		fmt.Fprintf(e.stdout, "supportprobe %s\n", version)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.main(ctx, e, args[1:])
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(e.stderr, "supportprobe %s: %v\n", c.name, err)
			}
			return exitCode(err)
		}
	}
	fmt.Fprintf(e.stderr, "supportprobe: unknown command %q; run `supportprobe help` for the list\n", args[0])
	return exitUsage
}

const defaultConfigPath = "/etc/supportprobe/supportprobe.yaml"

// newFlags returns a flag set that prints usage (a synopsis, an example and the flags)
// on --help and returns errors instead of exiting.
func newFlags(e *env, name, synopsis, example string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: supportprobe %s\n\n%s\n\nFlags:\n", name, strings.TrimSpace(synopsis))
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
		fmt.Fprintf(e.stdout, "\nExample:\n%s\n", strings.TrimRight(example, "\n"))
	}
	return fs
}

// parseFlags parses args and turns a flag error into a usage error. The usage text is
// printed once, here, on --help: the flag package would also print it itself before
// returning flag.ErrHelp or any parse error, so its hook is silenced while parsing.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // errors are reported once, by run
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(flagsFirst(fs, args))
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return usagef("%v (see `supportprobe %s --help`)", err, fs.Name())
	}
	return nil
}

// flagsFirst moves flags ahead of positional arguments, so `mark R42 human --note x`
// works as people type it (the flag package stops at the first positional argument).
// A "--" keeps everything after it positional.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(append(flags, "--"), positional...)
}

// configFlag registers --config and returns a function that loads the chosen file.
func configFlag(fs *flag.FlagSet, e *env) func() (*configs.Config, error) {
	path := fs.String("config", "", "configuration `file` (default $SUPPORTPROBE_CONFIG, else "+defaultConfigPath+")")
	return func() (*configs.Config, error) {
		p := *path
		if p == "" {
			p = e.getenv("SUPPORTPROBE_CONFIG")
		}
		if p == "" {
			p = defaultConfigPath
		}
		// Load's errors are *configs.Error, which exitCode maps to exitConfig.
		return configs.Load(p)
	}
}

// parseTimeFlag accepts RFC 3339 or a date (midnight UTC).
func parseTimeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--%s %q: want a date (2026-11-23) or an RFC 3339 time (2026-11-23T09:00:00Z)", name, s)
}

// openSource reaches the history of cfg's state directory, through the daemon when it
// runs (write: the file is opened for writing otherwise), and tells stderr when the
// database does not exist yet.
func openSource(ctx context.Context, e *env, cfg *configs.Config, write bool) (daemon.Source, error) {
	src, err := daemon.OpenSource(ctx, cfg.StateDir, write)
	if err != nil {
		return nil, err
	}
	if daemon.NotCreated(src) {
		fmt.Fprintf(e.stderr, "supportprobe: no database in %s yet; nothing has been recorded\n", cfg.StateDir)
	}
	return src, nil
}
