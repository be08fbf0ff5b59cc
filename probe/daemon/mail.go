package daemon

import (
	"fmt"

	"supportprobe/configs"
	"supportprobe/mailbox"
)

// MailServer turns a configured server into mailbox's form, reading its password.
func MailServer(name string, s configs.Server) (mailbox.Server, error) {
	out := mailbox.Server{Host: s.Host, Port: s.Port, Security: string(s.Security), Username: s.Username, Timeout: s.Timeout}
	if !s.Password.IsZero() {
		pw, err := s.Password.Value()
		if err != nil {
			return mailbox.Server{}, fmt.Errorf("mail.%s: %w", name, err)
		}
		out.Password = pw
	}
	return out, nil
}

// buildMail fills in the sender and sent folder the options left nil, from the
// configuration.
func (d *Daemon) buildMail() error {
	if d.sender == nil {
		smtp, err := MailServer("smtp", d.config().Mail.SMTP)
		if err != nil {
			return err
		}
		d.sender = mailbox.NewSender(smtp, mailbox.SenderOptions{Now: d.opts.Now, Logger: d.log,
			Backoff: d.opts.SMTPBackoff, RetryWindow: d.opts.SMTPRetryWindow})
	}
	if d.sent == nil && d.config().Mail.IMAP.AppendSent {
		imap, err := MailServer("imap", d.config().Mail.IMAP.Server)
		if err != nil {
			return err
		}
		d.sent = mailbox.NewSentFolder(imap, d.config().Mail.IMAP.SentFolder, mailbox.SentFolderOptions{Now: d.opts.Now})
	}
	return nil
}
