package mailworld

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Paths of Request Tracker 5's programs, as Debian's request-tracker5, rt5-db-sqlite and
// rt5-clients packages install them.
const (
	rtServerPath   = "/usr/share/request-tracker5/libexec/rt-server"
	rtSetupDBPath  = "/usr/sbin/rt-setup-database-5"
	rtMailgatePath = "/usr/bin/rt-mailgate-5"
)

// Bounds on waiting for Request Tracker.
const (
	rtSetupTimeout    = 90 * time.Second
	rtStartTimeout    = 90 * time.Second
	rtRequestTimeout  = 60 * time.Second
	rtMailgateTimeout = 90 * time.Second
)

// ErrRTUnavailable means this machine cannot run Request Tracker; the wrapping error says
// what is missing.
var ErrRTUnavailable = errors.New("request tracker unavailable")

// RTAvailable reports whether this machine can run an RT help desk: it returns nil, or an
// error wrapping ErrRTUnavailable that names the missing programs and their Debian packages.
func RTAvailable() error {
	var missing []string
	for _, prog := range []struct{ path, pkg string }{
		{rtServerPath, "request-tracker5"},
		{rtSetupDBPath, "request-tracker5"},
		{rtMailgatePath, "rt5-clients"},
		{"/usr/share/perl5/DBD/SQLite.pm", "rt5-db-sqlite (libdbd-sqlite3-perl)"},
	} {
		if _, err := os.Stat(prog.path); err != nil {
			// DBD::SQLite is architecture-specific; look for it where Debian puts it.
			if strings.HasPrefix(prog.path, "/usr/share/perl5/DBD") {
				if m, _ := filepath.Glob("/usr/lib/*/perl5/*/DBD/SQLite.pm"); len(m) > 0 {
					continue
				}
			}
			missing = append(missing, fmt.Sprintf("%s (package %s)", prog.path, prog.pkg))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s; install request-tracker5 rt5-db-sqlite rt5-clients", ErrRTUnavailable, strings.Join(missing, ", "))
	}
	return nil
}

// RTAgent is the privileged RT user that StartRT creates to answer tickets.
type RTAgent struct {
	Login, Password, RealName, Email string
}

// RTOptions configure StartRT.
type RTOptions struct {
	// Name is RT's $rtname: it appears in subjects ("[rt.test #1] …") and in the
	// pseudo-reference "<RT-Ticket-1@rt.test>". Default "rt.test".
	Name string
	// Queue is the mailbox of RT's General queue, a user of the world: RT sends from its
	// address, and every new message in its INBOX is fed to rt-mailgate. Required.
	Queue User
	// SMTPAddr and IMAPAddr are the world's servers, "127.0.0.1:PORT". Required.
	SMTPAddr, IMAPAddr string
	// Agent is the agent StartRT creates; default login "dana", real name "Dana Li".
	Agent RTAgent
	// Poll is how often the queue's INBOX is read; default 250 ms.
	Poll time.Duration
	// Notices adds what a help desk configures beyond RT's defaults (rtNoticesData): the
	// General queue's own AutoReply, in German, in place of RT's; the requestors told of
	// every status change (RT's stock "Status Change in HTML" template) and of the ticket
	// being taken (the queue's template "Taken"). Off, RT mails as installed.
	Notices bool
}

// RT is a Request Tracker 5 help desk running from a directory, wired into a mail world:
// rt-server answers HTTP on 127.0.0.1 with one worker over a private SQLite database, every
// new message in the queue's INBOX is piped to rt-mailgate (action correspond, queue
// General), and RT's outgoing mail is submitted over SMTP to the world's server. Start it
// with StartRT; the caller must call Close.
//
// The directory holds etc/RT_SiteConfig.pm, rt.db, log/rt.log (RT's own log),
// log/server.log (rt-server's output) and log/mailgate.log (the feeder's).
type RT struct {
	dir   string
	opts  RTOptions
	port  int
	cmd   *exec.Cmd
	http  *http.Client
	waitc chan error // rt-server's exit

	cancel context.CancelFunc
	pumpWG sync.WaitGroup

	mu      sync.Mutex // guards fed, pumpErr, log
	fed     int
	pumpErr error
	log     *os.File

	setupTook, serverTook time.Duration // StartRT's two phases

	closeOnce sync.Once
	closeErr  error
}

// rtSiteConfig is RT_SiteConfig.pm. Outgoing mail goes through a Perl subroutine
// ($MailCommand may be a code reference) that submits over SMTP with sendmail -t's
// meaning: recipients from To, Cc and Bcc, Bcc removed from the copy sent.
var rtSiteConfig = template.Must(template.New("RT_SiteConfig.pm").Parse(`# Written by supportprobe's test mail world; rewritten at every start.
Set($rtname, '{{.Name}}');
Set($Organization, '{{.Name}}');
Set($WebDomain, '127.0.0.1');
Set($WebPort, {{.Port}});
Set($WebPath, '');
Set($WebBaseURL, 'http://127.0.0.1:{{.Port}}');
Set($CorrespondAddress, '{{.Queue}}');
Set($CommentAddress, '{{.Queue}}');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{{.Dir}}/rt.db');
Set($Timezone, 'UTC');
Set($LogToSyslog, undef);
Set($LogToSTDERR, 'error');
Set($LogToFile, 'info');
Set($LogDir, '{{.Dir}}/log');
Set($LogToFileNamed, 'rt.log');
Set($WebSessionClass, 'Apache::Session::File');
$RT::MasonDataDir = '{{.Dir}}/var/mason';
$RT::MasonSessionDir = '{{.Dir}}/var/sessions';
Set($MailCommand, sub {
    my $entity = shift;
    my $ok = eval {
        require Net::SMTP;
        require Email::Address;
        my $head = $entity->head;
        my @rcpt = map { $_->address } map { Email::Address->parse($_) }
            map { $head->get($_) } qw(To Cc Bcc);
        die "no recipient in To, Cc or Bcc\n" unless @rcpt;
        $head->delete('Bcc');
        my $smtp = Net::SMTP->new('127.0.0.1', Port => {{.SMTPPort}}, Hello => '{{.Name}}', Timeout => 30)
            or die "connect to SMTP 127.0.0.1:{{.SMTPPort}}: $@\n";
        $smtp->mail('{{.Queue}}') or die 'MAIL FROM <{{.Queue}}> refused: ' . $smtp->message;
        for my $r (@rcpt) { $smtp->to($r) or die "RCPT TO <$r> refused: " . $smtp->message; }
        $smtp->data() or die 'DATA refused: ' . $smtp->message;
        $smtp->datasend($entity->as_string);
        $smtp->dataend() or die 'message refused after DATA: ' . $smtp->message;
        $smtp->quit;
        1;
    };
    unless ($ok) {
        $RT::Logger->crit("supportprobe test world: send mail over SMTP failed: $@");
        return 0;
    }
    return 1;
});
1;
`))

// rtInitialData creates the agent with the rights to answer, comment on and resolve
// tickets of the General queue, and lets anyone create and answer tickets by mail.
var rtInitialData = template.Must(template.New("initialdata").Parse(`@Users = ({ Name => '{{.Login}}', RealName => '{{.RealName}}', EmailAddress => '{{.Email}}',
            Password => '{{.Password}}', Privileged => 1 });
@ACL = ((map { { UserId => '{{.Login}}', Queue => 'General', Right => $_ } }
         qw(SeeQueue ShowTicket ShowTicketComments ReplyToTicket CommentOnTicket ModifyTicket OwnTicket TakeTicket)),
        (map { { GroupDomain => 'SystemInternal', GroupType => 'Everyone', Queue => 'General', Right => $_ } }
         qw(CreateTicket ReplyToTicket)));
1;
`))

// rtNoticesData is RTOptions.Notices' initial data: two templates of the General queue
// (a queue's template overrides the global one of the same name, so its "Autoreply in
// HTML" replaces RT's for the stock scrip "On Create Autoreply To Requestors") and two
// scrips that mail the requestors. The German text is written with HTML entities, which
// keeps the Perl file ASCII.
const rtNoticesData = `@Templates = (
    { Queue => 'General', Name => 'Autoreply in HTML', Description => 'German autoreply',
      Content => q[Subject: Ihre Anfrage ist eingegangen: {$Ticket->Subject}
Content-Type: text/html

<p>Guten Tag,</p>

<p>vielen Dank f&uuml;r Ihre Nachricht. Ihre Anfrage wurde unter der Nummer
<b>{$Ticket->SubjectTag}</b> erfasst. Ein Mitarbeiter unseres Supports wird sich
so bald wie m&ouml;glich bei Ihnen melden.</p>

<p>Bitte geben Sie bei weiteren Nachrichten zu diesem Vorgang die Nummer
{$Ticket->SubjectTag} im Betreff an.</p>

<p>Mit freundlichen Gr&uuml;&szlig;en<br/>
Ihr Support-Team</p>

<hr/>
{$Transaction->Content(Type => 'text/html')}
] },
    { Queue => 'General', Name => 'Taken', Description => 'Ticket taken, for the requestors',
      Content => q[Subject: Your request has been assigned: {$Ticket->Subject}
Content-Type: text/html

<p>Hello,</p>

<p>your request {$Ticket->SubjectTag} has been assigned to {$Ticket->OwnerObj->RealName},
who will handle it from now on.</p>

<p>You can follow it at <a href="{RT->Config->Get('WebURL')}SelfService/Display.html?id={$Ticket->id}">{RT->Config->Get('WebURL')}SelfService/Display.html?id={$Ticket->id}</a>.</p>
] },
);
@Scrips = (
    { Description => 'On Status Change Notify Requestors', Queue => 'General',
      ScripCondition => 'On Status Change', ScripAction => 'Notify Requestors', Template => 'Status Change in HTML' },
    { Description => 'On Owner Change Notify Requestors', Queue => 'General',
      ScripCondition => 'On Owner Change', ScripAction => 'Notify Requestors', Template => 'Taken' },
);
1;
`

// perlString reports whether s can sit between single quotes in Perl unescaped.
func perlString(s string) bool { return !strings.ContainsAny(s, `'\`+"\r\n") }

// StartRT writes RT's configuration into dir, creates its SQLite database with the agent
// when dir holds none yet (7 s on an idle machine, up to about 40 s on a loaded one),
// starts rt-server on a free 127.0.0.1 port, and starts feeding the queue's INBOX to
// rt-mailgate. It returns once RT answers HTTP (7–25 s more), or with an error that ends
// with the tail of RT's logs.
//
// dir is created if needed; like a Real world's, its path should be short and searchable.
// StartRT checks opts first (a missing queue or server, a value that cannot be written into
// RT's Perl configuration), then returns an error wrapping ErrRTUnavailable when
// RTAvailable fails. The caller must call Close, which stops rt-server and the feeder but
// leaves dir in place.
func StartRT(dir string, opts RTOptions) (*RT, error) {
	opts.Name = cmp.Or(opts.Name, "rt.test")
	opts.Agent.Login = cmp.Or(opts.Agent.Login, "dana")
	opts.Agent.Password = cmp.Or(opts.Agent.Password, "dana-agent-pw")
	opts.Agent.RealName = cmp.Or(opts.Agent.RealName, "Dana Li")
	if opts.Agent.Email == "" {
		_, domain, _ := strings.Cut(opts.Queue.Address, "@")
		opts.Agent.Email = opts.Agent.Login + "@" + domain
	}
	opts.Poll = cmp.Or(opts.Poll, 250*time.Millisecond)
	if opts.Queue.Address == "" || opts.SMTPAddr == "" || opts.IMAPAddr == "" {
		return nil, fmt.Errorf("start request tracker: RTOptions need Queue, SMTPAddr and IMAPAddr (the world's queue user and servers); got queue %q, SMTP %q, IMAP %q", opts.Queue.Address, opts.SMTPAddr, opts.IMAPAddr)
	}
	for _, s := range []string{dir, opts.Name, opts.Queue.Address, opts.Agent.Login, opts.Agent.Password, opts.Agent.RealName, opts.Agent.Email} {
		if !perlString(s) {
			return nil, fmt.Errorf("start request tracker: %q cannot be written into RT's Perl configuration (no quotes, backslashes or line breaks)", s)
		}
	}
	_, smtpPort, err := net.SplitHostPort(opts.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("start request tracker: SMTP address %q: %w", opts.SMTPAddr, err)
	}
	if err := RTAvailable(); err != nil {
		return nil, fmt.Errorf("start request tracker: %w", err)
	}
	for _, d := range []string{"etc/RT_SiteConfig.d", "var/mason", "var/sessions", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("start request tracker: %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start request tracker: find a free port: %w", err)
	}
	r := &RT{dir: dir, opts: opts, port: port, waitc: make(chan error, 1)}
	var conf bytes.Buffer
	if err := rtSiteConfig.Execute(&conf, map[string]any{
		"Name": opts.Name, "Port": port, "Queue": opts.Queue.Address, "Dir": dir, "SMTPPort": smtpPort,
	}); err != nil {
		return nil, fmt.Errorf("start request tracker: render RT_SiteConfig.pm: %w", err)
	}
	if err := os.WriteFile(r.path("etc", "RT_SiteConfig.pm"), conf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("start request tracker: %w", err)
	}
	if r.log, err = os.OpenFile(r.path("log", "mailgate.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("start request tracker: %w", err)
	}
	t0 := time.Now()
	if _, err := os.Stat(r.path("rt.db")); errors.Is(err, os.ErrNotExist) {
		if err := r.setupDatabase(); err != nil {
			r.log.Close()
			return nil, err
		}
	}
	t1 := time.Now()
	if err := r.startServer(); err != nil {
		r.log.Close()
		return nil, err
	}
	r.setupTook, r.serverTook = t1.Sub(t0), time.Since(t1)
	jar, _ := cookiejar.New(nil)
	r.http = &http.Client{Timeout: rtRequestTimeout, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.pumpWG.Add(1)
	go r.pump(ctx)
	return r, nil
}

func (r *RT) path(elem ...string) string { return filepath.Join(append([]string{r.dir}, elem...)...) }

// env is the environment RT's programs run with: the site configuration in dir only.
func (r *RT) env() []string {
	return append(os.Environ(),
		"RT_SITE_CONFIG="+r.path("etc", "RT_SiteConfig.pm"),
		"RT_SITE_CONFIG_DIR="+r.path("etc", "RT_SiteConfig.d"))
}

// setupDatabase creates rt.db with RT's schema and core data, then the agent.
func (r *RT) setupDatabase() error {
	var data bytes.Buffer
	if err := rtInitialData.Execute(&data, r.opts.Agent); err != nil {
		return fmt.Errorf("start request tracker: render initial data: %w", err)
	}
	if err := os.WriteFile(r.path("etc", "agent.initialdata"), data.Bytes(), 0o644); err != nil {
		return fmt.Errorf("start request tracker: %w", err)
	}
	steps := [][]string{
		{"--action", "init", "--skip-create"},
		{"--action", "insert", "--skip-create", "--datafile", r.path("etc", "agent.initialdata")},
	}
	if r.opts.Notices {
		if err := os.WriteFile(r.path("etc", "notices.initialdata"), []byte(rtNoticesData), 0o644); err != nil {
			return fmt.Errorf("start request tracker: %w", err)
		}
		steps = append(steps, []string{"--action", "insert", "--skip-create", "--datafile", r.path("etc", "notices.initialdata")})
	}
	for _, args := range steps {
		ctx, cancel := context.WithTimeout(context.Background(), rtSetupTimeout)
		cmd := exec.CommandContext(ctx, rtSetupDBPath, args...)
		cmd.Env = r.env()
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			os.Remove(r.path("rt.db"))
			return fmt.Errorf("start request tracker: %s %s: %w\n%s", rtSetupDBPath, strings.Join(args, " "), err, tail(out, 20))
		}
	}
	return nil
}

// startServer starts rt-server in its own process group and waits until it answers.
func (r *RT) startServer() error {
	logf, err := os.OpenFile(r.path("log", "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start request tracker: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(rtServerPath, "--host", "127.0.0.1", "--port", strconv.Itoa(r.port), "--max-workers", "1")
	cmd.Env = r.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so Close can stop Starlet's worker with its master.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start request tracker: run %s: %w", rtServerPath, err)
	}
	r.cmd = cmd
	go func() { r.waitc <- cmd.Wait() }()
	deadline := time.Now().Add(rtStartTimeout)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		select {
		case err := <-r.waitc:
			r.waitc <- err
			return r.withLogs(fmt.Errorf("start request tracker: rt-server exited before answering: %v", err))
		default:
		}
		resp, err := client.Get(r.URL() + "/NoAuth/Login.html")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			r.stopServer()
			return r.withLogs(fmt.Errorf("start request tracker: rt-server on port %d did not answer within %v (last: %v)", r.port, rtStartTimeout, cmp.Or(err, fmt.Errorf("HTTP %d", statusOf(resp)))))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// URL returns RT's base URL, "http://127.0.0.1:PORT".
func (r *RT) URL() string { return "http://127.0.0.1:" + strconv.Itoa(r.port) }

// Dir returns RT's directory.
func (r *RT) Dir() string { return r.dir }

// StartupTimes returns how long StartRT took to create the database (zero when dir held
// one) and to get rt-server answering.
func (r *RT) StartupTimes() (database, server time.Duration) { return r.setupTook, r.serverTook }

// Name returns RT's $rtname.
func (r *RT) Name() string { return r.opts.Name }

// Agent returns the agent that answers tickets.
func (r *RT) Agent() RTAgent { return r.opts.Agent }

// Fed returns how many messages of the queue's INBOX rt-mailgate has accepted so far, and
// the last error of the feeder (nil if none).
func (r *RT) Fed() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fed, r.pumpErr
}

// pump feeds every new message of the queue's INBOX to rt-mailgate, oldest UID first,
// until ctx ends. A message rt-mailgate refuses is retried at the next poll.
func (r *RT) pump(ctx context.Context) {
	defer r.pumpWG.Done()
	var next imap.UID = 1
	for {
		n, err := r.feedOnce(ctx, &next)
		r.mu.Lock()
		r.fed += n
		if err != nil && ctx.Err() == nil {
			r.pumpErr = err
			fmt.Fprintf(r.log, "%s %v\n", time.Now().Format(time.RFC3339), err)
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.opts.Poll):
		}
	}
}

// feedOnce reads the messages from UID *next on and pipes each to rt-mailgate.
func (r *RT) feedOnce(ctx context.Context, next *imap.UID) (int, error) {
	c, err := imapclient.DialInsecure(r.opts.IMAPAddr, &imapclient.Options{Dialer: &net.Dialer{Timeout: 5 * time.Second}})
	if err != nil {
		return 0, fmt.Errorf("feed RT: dial IMAP %s: %w", r.opts.IMAPAddr, err)
	}
	defer c.Close()
	if err := c.Login(r.opts.Queue.Address, r.opts.Queue.Password).Wait(); err != nil {
		return 0, fmt.Errorf("feed RT: log in to IMAP as %s: %w", r.opts.Queue.Address, err)
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return 0, fmt.Errorf("feed RT: select %s's INBOX: %w", r.opts.Queue.Address, err)
	}
	if sel.UIDNext != 0 && sel.UIDNext <= *next {
		c.Logout().Wait()
		return 0, nil
	}
	var set imap.UIDSet
	set.AddRange(*next, 0)
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		return 0, fmt.Errorf("feed RT: fetch %s's INBOX from UID %d: %w", r.opts.Queue.Address, *next, err)
	}
	c.Logout().Wait()
	fed := 0
	for _, m := range msgs {
		if m.UID < *next { // "N:*" returns the last message even when it is below N
			continue
		}
		var raw []byte
		for _, b := range m.BodySection {
			raw = b.Bytes
		}
		if err := r.mailgate(ctx, raw); err != nil {
			return fed, fmt.Errorf("feed RT: message UID %d of %s: %w", m.UID, r.opts.Queue.Address, err)
		}
		fed++
		*next = m.UID + 1
	}
	return fed, nil
}

// mailgate pipes one message to rt-mailgate, as a mail alias would.
func (r *RT) mailgate(ctx context.Context, raw []byte) error {
	ctx, cancel := context.WithTimeout(ctx, rtMailgateTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtMailgatePath, "--queue", "General", "--action", "correspond", "--url", r.URL()+"/")
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", rtMailgatePath, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// RTTicket is a ticket as RT's REST 2 API shows it.
type RTTicket struct {
	ID      int    `json:"id,string"`
	Subject string `json:"Subject"`
	Status  string `json:"Status"`
}

// Tickets returns every ticket of the General queue, oldest first.
func (r *RT) Tickets() ([]RTTicket, error) {
	q := url.Values{"query": {"Queue = 'General'"}, "orderby": {"id"}, "order": {"ASC"}, "fields": {"Subject,Status"}, "per_page": {"100"}}
	var page struct {
		Items []RTTicket `json:"items"`
	}
	if err := r.rest(http.MethodGet, "/tickets?"+q.Encode(), nil, &page); err != nil {
		return nil, fmt.Errorf("list RT tickets: %w", err)
	}
	return page.Items, nil
}

// WaitTicket waits up to timeout for a ticket whose subject contains subject and
// returns it.
func (r *RT) WaitTicket(subject string, timeout time.Duration) (RTTicket, error) {
	deadline := time.Now().Add(timeout)
	for {
		ts, err := r.Tickets()
		if err != nil {
			return RTTicket{}, err
		}
		for _, t := range ts {
			if strings.Contains(t.Subject, subject) {
				return t, nil
			}
		}
		if time.Now().After(deadline) {
			fed, ferr := r.Fed()
			return RTTicket{}, r.withLogs(fmt.Errorf("no RT ticket with subject %q after %v (tickets %+v; %d messages fed to rt-mailgate, last feeder error: %v)", subject, timeout, ts, fed, ferr))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Correspond answers ticket id through REST 2 (POST /REST/2.0/ticket/ID/correspond) as the
// agent: RT mails the text to the requestors.
func (r *RT) Correspond(id int, text string) error {
	return r.restUpdate(id, "correspond", text)
}

// Comment adds a private comment to ticket id through REST 2: RT mails nothing to the
// requestors.
func (r *RT) Comment(id int, text string) error {
	return r.restUpdate(id, "comment", text)
}

func (r *RT) restUpdate(id int, action, text string) error {
	body := map[string]string{"Content": text, "ContentType": "text/plain"}
	var res []string
	if err := r.rest(http.MethodPost, fmt.Sprintf("/ticket/%d/%s", id, action), body, &res); err != nil {
		return fmt.Errorf("RT ticket %d: %s: %w", id, action, err)
	}
	return nil
}

// Resolve sets ticket id's status to resolved through REST 2; RT mails its Resolved notice
// to the requestors.
func (r *RT) Resolve(id int) error {
	var res []string
	if err := r.rest(http.MethodPut, fmt.Sprintf("/ticket/%d", id), map[string]string{"Status": "resolved"}, &res); err != nil {
		return fmt.Errorf("RT ticket %d: resolve: %w", id, err)
	}
	if len(res) == 0 || !strings.Contains(strings.Join(res, " "), "resolved") {
		return fmt.Errorf("RT ticket %d: resolve: RT answered %q, not a change to resolved", id, res)
	}
	return nil
}

// Take makes the agent the owner of ticket id through REST 2 (PUT Owner); with
// RTOptions.Notices RT mails the requestors its "Taken" notice.
func (r *RT) Take(id int) error {
	var res []string
	if err := r.rest(http.MethodPut, fmt.Sprintf("/ticket/%d", id), map[string]string{"Owner": r.opts.Agent.Login}, &res); err != nil {
		return fmt.Errorf("RT ticket %d: take as %s: %w", id, r.opts.Agent.Login, err)
	}
	if len(res) == 0 {
		return fmt.Errorf("RT ticket %d: take as %s: RT reported no change", id, r.opts.Agent.Login)
	}
	return nil
}

// SetStatus sets ticket id's status through REST 2; with RTOptions.Notices RT mails the
// requestors its "Status Changed to: STATUS" notice.
func (r *RT) SetStatus(id int, status string) error {
	var res []string
	if err := r.rest(http.MethodPut, fmt.Sprintf("/ticket/%d", id), map[string]string{"Status": status}, &res); err != nil {
		return fmt.Errorf("RT ticket %d: set status %s: %w", id, status, err)
	}
	if len(res) == 0 || !strings.Contains(strings.Join(res, " "), status) {
		return fmt.Errorf("RT ticket %d: set status %s: RT answered %q, not a change to %s", id, status, res, status)
	}
	return nil
}

// rest calls RT's REST 2 API as the agent with basic authentication.
func (r *RT) rest(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.URL()+"/REST/2.0"+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(r.opts.Agent.Login, r.opts.Agent.Password)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: rtRequestTimeout}).Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, req.URL.Path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, req.URL.Path, resp.StatusCode, tail(b, 5))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer %q: %w", method, req.URL.Path, tail(b, 5), err)
	}
	return nil
}

var (
	hiddenInputRe = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	attrRe        = regexp.MustCompile(`\b(name|value)="([^"]*)"`)
	rtResultsRe   = regexp.MustCompile(`(?s)<ul class="action-results">(.*?)</ul>`)
)

// RespondWeb answers ticket id the way an agent does in a browser: it logs in through
// /NoAuth/Login.html (a session cookie), opens Ticket/Update.html?Action=Respond, and
// submits the form with its hidden fields (the upload Token among them),
// UpdateType=response and the text. RT's CSRF check accepts the post because it carries
// the form page as Referer, as a browser's does.
func (r *RT) RespondWeb(id int, text string) error {
	fail := func(step string, err error) error {
		return fmt.Errorf("RT ticket %d: answer through the web form: %s: %w", id, step, err)
	}
	resp, err := r.http.PostForm(r.URL()+"/NoAuth/Login.html", url.Values{"user": {r.opts.Agent.Login}, "pass": {r.opts.Agent.Password}, "next": {""}})
	if err != nil {
		return fail("log in", err)
	}
	resp.Body.Close()
	if u, _ := url.Parse(r.URL()); !hasSession(r.http.Jar.Cookies(u)) {
		return fail("log in", fmt.Errorf("no session cookie after logging in as %s (HTTP %d)", r.opts.Agent.Login, resp.StatusCode))
	}
	formURL := fmt.Sprintf("%s/Ticket/Update.html?id=%d&Action=Respond", r.URL(), id)
	resp, err = r.http.Get(formURL)
	if err != nil {
		return fail("open Update.html", err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fail("open Update.html", fmt.Errorf("HTTP %d, %v", resp.StatusCode, err))
	}
	form := url.Values{}
	for _, in := range hiddenInputRe.FindAll(page, -1) {
		var name, value string
		for _, a := range attrRe.FindAllSubmatch(in, -1) {
			if string(a[1]) == "name" {
				name = html.UnescapeString(string(a[2]))
			} else {
				value = html.UnescapeString(string(a[2]))
			}
		}
		if name != "" {
			form.Add(name, value)
		}
	}
	if form.Get("Token") == "" || form.Get("id") != strconv.Itoa(id) {
		return fail("read the form", fmt.Errorf("Update.html has no Token or id %d among its hidden fields (%v)", id, form))
	}
	form.Set("UpdateType", "response")
	form.Set("UpdateContent", text)
	form.Set("SubmitTicket", "Update Ticket")
	req, err := http.NewRequest(http.MethodPost, r.URL()+"/Ticket/Update.html", strings.NewReader(form.Encode()))
	if err != nil {
		return fail("post", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", formURL)
	resp, err = r.http.Do(req)
	if err != nil {
		return fail("post", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Success is a redirect to Display.html carrying the results; a CSRF refusal or an
	// error is a 200 page.
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		msg := "no results shown"
		if m := rtResultsRe.FindSubmatch(b); m != nil {
			msg = strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(string(m[1]), " ")), " ")
		} else if bytes.Contains(b, []byte("Possible cross-site request forgery")) {
			msg = "RT suspected a cross-site request forgery"
		}
		return fail("post", fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg))
	}
	return nil
}

func hasSession(cs []*http.Cookie) bool {
	for _, c := range cs {
		if strings.HasPrefix(c.Name, "RT_SID_") {
			return true
		}
	}
	return false
}

// Logs returns the last lines of RT's log, rt-server's output and the feeder's log, for a
// failing test to show.
func (r *RT) Logs() string {
	var b strings.Builder
	for _, f := range []string{"rt.log", "server.log", "mailgate.log"} {
		data, _ := os.ReadFile(r.path("log", f))
		fmt.Fprintf(&b, "--- %s (last 20 lines):\n%s\n", f, tail(data, 20))
	}
	return b.String()
}

func (r *RT) withLogs(err error) error { return fmt.Errorf("%w\n%s", err, r.Logs()) }

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Close stops the feeder and rt-server (its whole process group) and waits for both. It is
// idempotent: later calls return the first call's result.
func (r *RT) Close() error {
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
		}
		r.pumpWG.Wait()
		r.closeErr = r.stopServer()
		if r.log != nil {
			r.log.Close()
		}
	})
	return r.closeErr
}

// stopServer sends SIGTERM to rt-server's process group (not SIGINT: as root, rt-server's
// SIGINT handler chowns RT's system directory) and waits for the master to exit.
func (r *RT) stopServer() error {
	if r.cmd == nil || r.cmd.Process == nil {
		return nil
	}
	pgid := r.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-r.waitc:
	case <-time.After(realStopTimeout):
		syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-r.waitc:
		case <-time.After(realStopTimeout):
			return fmt.Errorf("stop request tracker: rt-server (pid %d) did not exit after SIGKILL", pgid)
		}
	}
	// Starlet's worker may outlive its master for a moment; make sure the group is gone.
	syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}
