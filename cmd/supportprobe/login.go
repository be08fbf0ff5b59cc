package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox/oauth"
	"supportprobe/probe/daemon"
)

const loginSynopsis = `login [--config FILE] [--provider microsoft|google|custom]

Signs the mailbox in with OAuth 2.0, for servers with auth: oauth2 (company mailboxes at
Microsoft 365 and Google Workspace refuse passwords). It uses the device authorization
grant: it prints an address and a code, you open the address in any browser, sign in as
the mailbox's user and enter the code; login waits until you have done so (or the code
expires, usually after 15 minutes), then stores the refresh token in the state directory
(oauth2-token.json, mode 0600). The daemon turns it into short-lived access tokens as it
goes; the token is never logged, never in the database and never in an export.

Run it again whenever the daemon reports "invalid_grant: … run supportprobe login" (the
token was revoked or expired): a running daemon picks the new token up at its next retry.
--provider, when given, must match mail.oauth2.provider: a guard against signing in with
the wrong file.`

const loginExample = `  supportprobe login --config /etc/supportprobe/supportprobe.yaml
  supportprobe login --config /etc/supportprobe/supportprobe.yaml --provider microsoft`

// loginOpts are login's flags.
type loginOpts struct {
	provider string
}

func loginCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "login", loginSynopsis, loginExample)
	load := configFlag(fs, e)
	var o loginOpts
	fs.StringVar(&o.provider, "provider", "", "microsoft, google or custom; must match mail.oauth2.provider")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; login takes only flags", fs.Arg(0))
	}
	switch o.provider {
	case "", configs.ProviderMicrosoft, configs.ProviderGoogle, configs.ProviderCustom:
	default:
		return usagef("--provider %q: want microsoft, google or custom", o.provider)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	return runLogin(ctx, e, cfg, o)
}

func runLogin(ctx context.Context, e *env, cfg *configs.Config, o loginOpts) error {
	oc := cfg.Mail.OAuth2
	if oc == nil {
		return fmt.Errorf("%w: no server in %s has auth: oauth2, so there is nothing to sign in to; set auth: oauth2 under mail.imap and/or mail.smtp and add mail.oauth2 (see the README, \"Company mailboxes\")", errConfig, cfg.Path)
	}
	if o.provider != "" && o.provider != oc.Provider {
		return usagef("--provider %s, but mail.oauth2.provider in %s is %s; fix one of them", o.provider, cfg.Path, oc.Provider)
	}
	c, err := daemon.OAuthConfig(oc, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", errConfig, err)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state directory %s for the token: %w", cfg.StateDir, err)
	}
	fmt.Fprintf(e.stdout, "Signing in %s with %s (client %s).\n", cfg.Mail.IMAP.Username, oc.Provider, oc.ClientID)
	err = oauth.Login(ctx, c, func(d oauth.DeviceCode) {
		fmt.Fprintf(e.stdout, "\nOpen %s in a browser, sign in as %s and enter the code:\n\n    %s\n\n", d.VerificationURI, cfg.Mail.IMAP.Username, d.UserCode)
		if d.VerificationURIComplete != "" {
			fmt.Fprintf(e.stdout, "(or open %s, which carries the code)\n", d.VerificationURIComplete)
		}
		if !d.Expiry.IsZero() {
			fmt.Fprintf(e.stdout, "The code expires at %s. Waiting for you to sign in...\n", d.Expiry.Local().Format(time.TimeOnly))
		}
	})
	if err != nil {
		return fmt.Errorf("sign-in with %s: %w", oc.Provider, err)
	}
	fmt.Fprintf(e.stdout, "Signed in. The refresh token is in %s (mode 0600); keep that file private.\n", oc.TokenFile)
	fmt.Fprintf(e.stdout, "Next: supportprobe check --config %s --connect\n", cfg.Path)
	return nil
}
