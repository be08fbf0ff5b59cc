package daemon

import (
	"fmt"
	"log/slog"
	"sync"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/oauth"
)

// MailServer turns a configured server into mailbox's form, reading its password, or,
// for auth: oauth2, giving it a fresh token source that reads the refresh token `login`
// stored. A one-shot command may use it; the daemon shares one token source between all
// its logins instead (Daemon.mailServer).
func MailServer(name string, s configs.Server) (mailbox.Server, error) {
	return mailServer(name, s, nil)
}

func mailServer(name string, s configs.Server, src *oauth.Source) (mailbox.Server, error) {
	out := mailbox.Server{Host: s.Host, Port: s.Port, Security: string(s.Security), Username: s.Username, Timeout: s.Timeout}
	if s.CAFile != "" || s.ServerName != "" {
		tc, err := mailbox.TLSConfig(s.CAFile, s.ServerName)
		if err != nil {
			return mailbox.Server{}, fmt.Errorf("mail.%s: %w", name, err)
		}
		out.TLSConfig = tc
	}
	if s.Auth == configs.AuthOAuth2 {
		if src == nil {
			var err error
			if src, err = TokenSource(s.OAuth2, nil); err != nil {
				return mailbox.Server{}, err
			}
		}
		out.Token, out.TokenRefused = src.AccessToken, src.Forget
		return out, nil
	}
	if !s.Password.IsZero() {
		pw, err := s.Password.Value()
		if err != nil {
			return mailbox.Server{}, fmt.Errorf("mail.%s: %w", name, err)
		}
		out.Password = pw
	}
	return out, nil
}

// OAuthConfig turns mail.oauth2 into the oauth package's form, reading the client secret.
func OAuthConfig(o *configs.OAuth2, log *slog.Logger) (oauth.Config, error) {
	if o == nil {
		return oauth.Config{}, fmt.Errorf("mail.oauth2: not configured (a server has auth: oauth2 but the configuration has no mail.oauth2 block)")
	}
	c := oauth.Config{ClientID: o.ClientID, DeviceURL: o.DeviceURL, TokenURL: o.TokenURL, Scopes: o.Scopes, TokenFile: o.TokenFile, Logger: log}
	if !o.ClientSecret.IsZero() {
		v, err := o.ClientSecret.Value()
		if err != nil {
			return oauth.Config{}, fmt.Errorf("mail.oauth2 client secret: %w", err)
		}
		c.ClientSecret = v
	}
	return c, nil
}

// TokenSource returns a token source for mail.oauth2, logging to log (nil discards).
func TokenSource(o *configs.OAuth2, log *slog.Logger) (*oauth.Source, error) {
	c, err := OAuthConfig(o, log)
	if err != nil {
		return nil, err
	}
	return oauth.NewSource(c), nil
}

// tokenSource is the daemon's one token source, made on first use.
type tokenSource struct {
	once sync.Once
	src  *oauth.Source
	err  error
}

// mailServer is MailServer sharing the daemon's token source, so the access token is
// refreshed once for the sender, the watcher and the sent folder.
func (d *Daemon) mailServer(name string, s configs.Server) (mailbox.Server, error) {
	if s.Auth != configs.AuthOAuth2 {
		return mailServer(name, s, nil)
	}
	d.tokens.once.Do(func() { d.tokens.src, d.tokens.err = TokenSource(s.OAuth2, d.log) })
	if d.tokens.err != nil {
		return mailbox.Server{}, d.tokens.err
	}
	return mailServer(name, s, d.tokens.src)
}

// buildMail fills in the sender and sent folder the options left nil, from the
// configuration.
func (d *Daemon) buildMail() error {
	if d.sender == nil {
		smtp, err := d.mailServer("smtp", d.config().Mail.SMTP)
		if err != nil {
			return err
		}
		d.sender = mailbox.NewSender(smtp, mailbox.SenderOptions{Now: d.opts.Now, Logger: d.log,
			Backoff: d.opts.SMTPBackoff, RetryWindow: d.opts.SMTPRetryWindow})
	}
	if d.sent == nil && d.config().Mail.IMAP.AppendSent {
		imap, err := d.mailServer("imap", d.config().Mail.IMAP.Server)
		if err != nil {
			return err
		}
		ic := d.config().Mail.IMAP
		d.sent = mailbox.NewSentFolder(imap, ic.SentFolder, mailbox.SentFolderOptions{Now: d.opts.Now,
			Discover: ic.DiscoverSent, ProviderFiles: ic.ProviderFilesSent})
	}
	return nil
}
