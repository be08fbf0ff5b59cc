// Command supportprobe measures how fast vendors' support teams really answer: it sends
// scripted inquiries on cron schedules pinned to time zones, watches an IMAP inbox for
// the answers, and records first-response latency. Run `supportprobe help` for the
// subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
