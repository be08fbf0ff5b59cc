package configs

import (
	_ "embed"
	"fmt"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "time/tzdata" // vendor zones must resolve in a bare container without /usr/share/zoneinfo

	"supportprobe/probe"
)

// Example is a commented, valid configuration: what `supportprobe init` writes and what
// a newcomer edits. Parse accepts it with no errors; its passwords come from files and
// environment variables that will not exist until they are set up.
//
//go:embed supportprobe.example.yaml
var Example []byte

// Defaults applied when a key is omitted.
const (
	// DefaultStateDir holds the database and the daemon's control socket.
	DefaultStateDir = "/var/lib/supportprobe"
	// DefaultDeadline is how long a probe waits for a human reply before it counts as
	// unanswered.
	DefaultDeadline = 7 * day
	// DefaultTimeout bounds each dial, login and command on the mail servers.
	DefaultTimeout = 30 * time.Second
	// DefaultSentFolder is the IMAP folder sent probes are appended to.
	DefaultSentFolder = "Sent"
)

// DefaultFolders are the IMAP folders watched for replies when mail.imap.folders is
// omitted: replies from help desks often land in spam. `\Junk` is the folder the server
// marks \Junk (SPECIAL-USE, RFC 6154), whatever the provider and the account's language
// call it, found at every connection (see FolderAttrs).
var DefaultFolders = []string{"INBOX", `\Junk`}

// FolderAttrs are the special-use attributes a mail.imap.folders entry may name instead
// of a folder: the folders a reply can land in. The others (\Sent, \Drafts, \All,
// \Flagged) hold our own mail or copies of the inbox.
var FolderAttrs = []string{`\Junk`, `\Archive`, `\Trash`}

// Config is a validated configuration. Every value in it has been checked; nothing in it
// is a secret (see Secret). Build one with Load or Parse.
type Config struct {
	// Path is the file the configuration was loaded from, or "" when it came from Parse.
	Path string
	// StateDir holds the database and the control socket; DefaultStateDir if omitted.
	StateDir string
	// Mail is how probes are sent and replies read.
	Mail Mail
	// Scripts are the inquiries, in file order.
	Scripts []probe.Script
	// Vendors are the support organisations under evaluation, in file order.
	Vendors []probe.Vendor
	// Summary is the periodic summary mail, nil when the file has none.
	Summary *Summary
	// HTTP serves /metrics and /healthz, nil when the file has no http section.
	HTTP *HTTP
	// Dashboard says what the dashboard on the HTTP listener may do; read-only unless
	// the file says dashboard.read_only: false.
	Dashboard Dashboard
	// Alerts says whom to tell at once when something needs a person, nil when the
	// file has no alerts section.
	Alerts *Alerts
	// ControlGroup is the group that may use the control socket besides its owner
	// (control.group): the socket becomes 0660 and the state directory 0710 for that
	// group, so its members can run the CLI without the daemon's secrets. "" keeps both
	// to the owner alone.
	ControlGroup string

	source string         // the name errors use: Path, or Parse's source
	lines  map[string]int // line of each secret key, by path ("mail.smtp.password_file")
}

// Mail is the mailbox the probes are sent from and replies arrive in.
type Mail struct {
	// Provider is the preset named by mail.provider: PresetMicrosoft365, PresetGmail,
	// PresetFastmail or PresetGeneric (also when omitted).
	Provider string
	// Preset lists, in file order, the keys the preset filled because the file left
	// them out; empty for PresetGeneric. Keys written in the file always win.
	Preset []PresetChoice
	// From is the sender of every probe: a person's address, never a role address.
	From mail.Address
	// PlusAddressing sets Reply-To to From's address with "+TOKEN" added to the local
	// part (lin.wei+K3F9QZ@example.com), so replies carry the probe's token even when a
	// help desk drops In-Reply-To. The mail server must deliver plus addresses to From.
	PlusAddressing bool
	// SMTP sends the probes.
	SMTP Server
	// IMAP is watched for the replies.
	IMAP IMAP
	// OAuth2 is the authorization server that issues the access tokens a server with
	// Auth AuthOAuth2 logs in with; nil when no server uses it.
	OAuth2 *OAuth2
}

// Security is how a connection to a mail server is protected.
type Security string

// The security settings a server may use.
const (
	// SecurityTLS is TLS from the first byte (SMTP submissions on 465, IMAP on 993).
	SecurityTLS Security = "tls"
	// SecurityStartTLS upgrades a plain connection with STARTTLS and fails if the
	// server does not offer it (SMTP on 587, IMAP on 143).
	SecurityStartTLS Security = "starttls"
	// SecurityNone sends everything, passwords included, in the clear. Parse allows it
	// only for loopback hosts (a local relay, a test server).
	SecurityNone Security = "none"
)

// Auth is how supportprobe logs in to a mail server.
type Auth string

// The ways of logging in.
const (
	// AuthPassword logs in with Username and the password Password names (IMAP LOGIN,
	// SMTP AUTH PLAIN or LOGIN).
	AuthPassword Auth = "password"
	// AuthOAuth2 logs in with Username and an OAuth 2.0 access token (SASL OAUTHBEARER
	// or XOAUTH2), refreshed from the refresh token `supportprobe login` stored; see
	// Mail.OAuth2.
	AuthOAuth2 Auth = "oauth2"
)

// Server is a mail server and how to log in to it.
type Server struct {
	// Host is a name or IP address, without a port.
	Host string
	// Port is 1 to 65535; when omitted it follows Security (SMTP: 465 for tls, 587 for
	// starttls, 25 for none; IMAP: 993 for tls, else 143).
	Port int
	// Security defaults to SecurityTLS.
	Security Security
	// Auth is how to log in; AuthPassword if omitted.
	Auth Auth
	// Username is the login name; empty for an SMTP server that takes mail without
	// authentication, in which case Password is zero too. Always set for IMAP and with
	// AuthOAuth2.
	Username string
	// Password says where the password is kept; call Value to read it. Zero with
	// AuthOAuth2.
	Password Secret
	// OAuth2 is Mail.OAuth2 when Auth is AuthOAuth2, else nil.
	OAuth2 *OAuth2
	// Timeout bounds each dial, login and command; DefaultTimeout if omitted.
	Timeout time.Duration
	// CAFile is a PEM file of CA certificates trusted for this server besides the
	// system's (a company's private CA); "" for the system's only.
	CAFile string
	// ServerName is the name the server's certificate must carry, when it differs from
	// Host (connecting by IP address, or through a tunnel); "" means Host.
	ServerName string
}

// Addr returns "host:port", ready for net.Dial.
func (s Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// IMAP is the IMAP server and the folders supportprobe uses on it.
type IMAP struct {
	Server
	// Folders are watched for replies, in order; DefaultFolders if omitted. Each is a
	// folder's name, or one of FolderAttrs in its canonical spelling (`\Junk`): the
	// folder the server marks with it, discovered when the watcher connects.
	Folders []string
	// SentFolder receives a copy of each probe when AppendSent is set; the copy's
	// INTERNALDATE measures the skew between our clock and the server's.
	SentFolder string
	// DiscoverSent is true when the file does not name sent_folder: the folder the
	// server marks \Sent (SPECIAL-USE, RFC 6154) is used, whatever its name in the
	// account's language, and SentFolder only when the server marks none.
	DiscoverSent bool
	// AppendSent says whether to append sent probes to SentFolder (yaml key
	// append_sent); true if omitted. A copy the provider filed itself is looked for
	// first, so it is never duplicated.
	AppendSent bool
	// ProviderFilesSent says the provider's preset is known to file every SMTP
	// submission in Sent itself (Gmail, Microsoft 365): after a send the sent folder
	// waits a little for that copy before appending one.
	ProviderFilesSent bool
}

// Summary is the periodic summary mail.
type Summary struct {
	// Spec is the five-field cron spec as written, without a CRON_TZ= prefix; pass it
	// through CronSpec with Location before handing it to robfig/cron.
	Spec string
	// Location is the zone Spec is evaluated in.
	Location *time.Location
	// To are the recipients, each a valid RFC 5322 address.
	To []string
}

// HTTP is the daemon's monitoring listener.
//
// With AllowRemote, validation guarantees that Auth names at least one credentials file
// and that the listener uses TLS (CertFile and KeyFile) unless InsecurePlaintext says the
// network is trusted. When Auth is set it applies on a loopback listener too. /healthz is
// never authenticated; every other path is.
type HTTP struct {
	// Listen is "host:port" for net.Listen; the host is a loopback address unless the
	// file set allow_remote: true. Port 0 picks a free port.
	Listen string
	// AllowRemote is allow_remote: the listener may be reachable beyond this host.
	AllowRemote bool
	// Auth names the credentials files; zero when none is configured.
	Auth HTTPAuth
	// CertFile and KeyFile are the PEM certificate (chain) and private key the listener
	// serves TLS with; both empty for plain HTTP.
	CertFile, KeyFile string
	// InsecurePlaintext is insecure_plaintext: the operator accepts credentials and
	// metrics crossing the network unencrypted (allow_remote without TLS).
	InsecurePlaintext bool
}

// TLS reports whether the listener serves HTTPS.
func (h HTTP) TLS() bool { return h.CertFile != "" }

// Dashboard is the dashboard's part of the configuration (the dashboard section). The
// dashboard is served on the HTTP listener, so validation refuses a dashboard section
// without an http section.
type Dashboard struct {
	// ReadOnly is dashboard.read_only: true (the default) shows the review queue and the
	// unmatched mail without the forms that decide a kind or link a message to a probe;
	// false lets a person decide from the page, each decision going into the audit log
	// as one made with the CLI does. A reload applies a change.
	ReadOnly bool
}

// HTTPAuth names the files the monitoring listener's credentials are read from, once,
// when the daemon starts. A request is let in when either kind matches.
type HTTPAuth struct {
	// BearerTokensFile holds one token per line (blank lines and lines starting with #
	// are skipped); "Authorization: Bearer TOKEN" must carry one of them.
	BearerTokensFile string
	// BasicFile holds htpasswd-style "user:BCRYPT-HASH" lines (htpasswd -B); HTTP basic
	// authentication must name one user and its password.
	BasicFile string
}

// IsZero reports whether no credentials are configured.
func (a HTTPAuth) IsZero() bool { return a.BearerTokensFile == "" && a.BasicFile == "" }

// Load reads and validates the configuration file at path. Relative password_file and
// state_dir paths are taken relative to the file's directory, so the configuration means
// the same whatever the working directory. The error is a *Error for an unreadable file,
// or every problem found, each an *Error, joined in file order.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Source: path, Err: fmt.Errorf("read configuration: %w", err)}
	}
	c, err := parse(data, path, filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

// Parse validates a configuration held in memory. source names it in errors (a file
// name, "example", "-"); relative paths in it are kept as written, relative to the
// working directory. It returns every problem found, each an *Error, joined with
// errors.Join in file order; no problem means a fully validated Config.
func Parse(data []byte, source string) (*Config, error) {
	return parse(data, source, "")
}

func parse(data []byte, source, dir string) (*Config, error) {
	p := &problems{source: source}
	raw, root := decode(data, p)
	if err := p.err(); err != nil {
		return nil, err
	}
	c := validate(raw, root, p, dir)
	if err := p.err(); err != nil {
		return nil, err
	}
	c.source = source
	return c, nil
}

// Script returns the script with the given id.
func (c *Config) Script(id string) (probe.Script, bool) {
	for _, s := range c.Scripts {
		if s.ID == id {
			return s, true
		}
	}
	return probe.Script{}, false
}

// Vendor returns the vendor with the given name.
func (c *Config) Vendor(name string) (probe.Vendor, bool) {
	for _, v := range c.Vendors {
		if v.Name == name {
			return v, true
		}
	}
	return probe.Vendor{}, false
}

// SecretProblems reads every configured password and returns one *Error for each that
// cannot be read: an unset or empty environment variable, a missing, unreadable or empty
// file. Each names the key (`mail.smtp.password_env`) and the variable or file. `check`
// prints them as warnings, since the file itself is valid; `run` refuses to start with
// any. It returns nil when every password is readable. The passwords themselves are
// discarded.
func (c *Config) SecretProblems() []error {
	type named struct {
		envKey, fileKey string
		secret          Secret
	}
	all := []named{
		{"mail.smtp.password_env", "mail.smtp.password_file", c.Mail.SMTP.Password},
		{"mail.imap.password_env", "mail.imap.password_file", c.Mail.IMAP.Password},
	}
	if c.Mail.OAuth2 != nil {
		all = append(all, named{"mail.oauth2.client_secret_env", "mail.oauth2.client_secret_file", c.Mail.OAuth2.ClientSecret})
	}
	if c.Alerts != nil {
		for _, w := range c.Alerts.Webhooks {
			all = append(all, named{w.envKey, w.fileKey, w.Secret})
		}
	}
	var out []error
	for _, s := range all {
		if s.secret.IsZero() {
			continue
		}
		if _, err := s.secret.Value(); err != nil {
			key := s.envKey
			if s.secret.File != "" {
				key = s.fileKey
			}
			source := c.source
			if source == "" {
				source = c.Path
			}
			out = append(out, &Error{Source: source, Line: c.lines[key], Path: key, Err: err})
		}
	}
	return out
}
