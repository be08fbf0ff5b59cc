package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
	"supportprobe/store"
)

// TestStateModes checks, on a running daemon, that the state directory is 0700 and the
// control socket, the database and the pid (lock) file are 0600, and that nothing else
// in the directory is open to others: under the usual umask, and under a umask of 0,
// where only the modes the code asks for protect the files.
func TestStateModes(t *testing.T) {
	for _, umask := range []int{0o022, 0} {
		t.Run(fmt.Sprintf("umask %04o", umask), func(t *testing.T) {
			// Not parallel: the umask belongs to the whole process.
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			dir := filepath.Join(t.TempDir(), "state")
			d := mustDaemon(t, dir)
			stop := runDaemon(t, d, dir)
			defer stop()

			wantMode(t, dir, fs.ModeDir|0o700)
			wantMode(t, SocketPath(dir), fs.ModeSocket|0o600)
			wantMode(t, DatabasePath(dir), 0o600)
			wantMode(t, PidFile(dir), 0o600)
			wantOwnerOnly(t, dir)
		})
	}
}

// TestStateModesTightensLooseDatabase: a database restored or copied with a mode that
// lets others read it (it holds the evidence and the key that signs our Message-IDs) is
// made 0600 when the daemon takes the directory. The directory itself is the user's to
// set (it may be shared); the socket is 0600 whatever it is.
func TestStateModesTightensLooseDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(DatabasePath(dir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Chmod(DatabasePath(dir), 0o644); err != nil {
		t.Fatal(err)
	}
	d := mustDaemon(t, dir)
	defer runDaemon(t, d, dir)()
	wantMode(t, DatabasePath(dir), 0o600)
	wantMode(t, SocketPath(dir), fs.ModeSocket|0o600)
	wantMode(t, PidFile(dir), 0o600)
}

// runDaemon runs d until the returned stop is called, once its socket answers.
func runDaemon(t *testing.T, d *Daemon, dir string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := Dial(context.Background(), dir)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("daemon did not answer on its socket within 10 s: %v", err)
		}
	}
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10 s of cancel")
		}
	}
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Errorf("stat %s: %v", path, err)
		return
	}
	if got := st.Mode() & (fs.ModeType | fs.ModePerm); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}

// wantOwnerOnly fails for anything in dir that its group or others may use.
func wantOwnerOnly(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s in the state directory: mode %v, open to group or others", e.Name(), info.Mode())
		}
	}
}

// hostileReply is a vendor reply built to break out of the weekly summary: into its
// header (CRLF and a Bcc, raw or RFC 2047 encoded) or into active HTML.
type hostileReply struct {
	subject, from string
	// raw, when set, is delivered through the daemon's inbound path (Parse, match,
	// classify, store) instead of being stored as subject and from.
	raw string
}

var hostileReplies = []hostileReply{
	{subject: "Re: ok\r\nBcc: attacker@evil.example", from: "Eve <eve@acme.example>\r\nBcc: attacker@evil.example"},
	{subject: "Re: ok\nContent-Type: text/html\n\n<script>alert(1)</script>", from: "\"Eve\r\n\r\n<b>bold</b>\" <eve@acme.example>"},
	{subject: "<script>alert(document.cookie)</script>", from: `"<img src=x onerror=alert(1)>" <evil@acme.example>`},
	{subject: `"><a href=javascript:alert(1)>click</a>`, from: `"'><svg onload=alert(1)>" <x@acme.example>`},
	{raw: "From: =?utf-8?q?Eve=0D=0ABcc:_attacker@evil.example_<img_src=3Dx_onerror=3Dalert(1)>?= <eve@acme.example>\r\n" +
		"To: lin.wei@example.com\r\n" +
		"Subject: =?utf-8?q?Re:_ok=0D=0ABcc:_attacker@evil.example=0D=0A=0D=0A<script>x()</script>?=\r\n" +
		"Message-ID: <hostile-encoded@acme.example>\r\n" +
		"In-Reply-To: <MSGID>\r\n" +
		"Date: Mon, 23 Nov 2026 12:00:00 +0000\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Hello Lin, I restarted the node; please try again and tell me. Dana\r\n"},
}

// TestSummaryResistsInjection sends the weekly summary of a week whose replies carry
// hostile From and Subject values (each the first response to a probe that breached its
// SLA, so the summary lists it) through each mail world, reads the delivered mail back
// and parses it with go-message: its header fields must be exactly those RenderSummary
// writes, with the fixed Subject and only the configured recipient; every part's header
// only MIME fields; and the HTML part must carry no tag or attribute the report's own
// template does not write, the hostile text appearing only escaped.
func TestSummaryResistsInjection(t *testing.T) {
	lin := mailworld.User{Address: "lin.wei@example.com", Password: "lin-pw"}
	buyer := mailworld.User{Address: "procurement@example.com", Password: "buyer-pw"}
	mailworldtest.Each(t, []mailworld.User{lin, buyer}, func(t *testing.T, w mailworld.World) {
		fire := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) // Monday 09:00 in Shanghai
		d := summaryDaemon(t, w, lin, fire, "Streams failing\\r\\nBcc: attacker@evil.example <script>")
		sent := fire.AddDate(0, 0, -7) // Monday of the week summarised
		for i, h := range hostileReplies {
			id := probe.NewMessageID(d.key, fmt.Sprintf("P%d", i+1), "example.com")
			p, err := d.DB().CreateProbe(probe.Probe{Vendor: "acme-cloud", Script: "outage-en", Priority: probe.P1, State: probe.StateSent,
				CreatedAt: sent, SentAt: sent, Subject: "Streams failing", MessageID: id,
				Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "America/Los_Angeles"}, Deadline: 48 * time.Hour,
					SLA: &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar}}})
			if err != nil {
				t.Fatal(err)
			}
			at := sent.Add(2 * time.Hour) // past the 1 h target: a breach the summary lists
			if h.raw != "" {
				raw := []byte(strings.ReplaceAll(h.raw, "MSGID", id))
				if err := d.handleMail(context.Background(), mailbox.Fetched{Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1),
					InternalDate: at, Raw: raw, Size: int64(len(raw)), DetectedAt: at}); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := d.DB().AddReply(probe.Reply{ProbeID: p.ID, MessageID: fmt.Sprintf("hostile-%d@acme.example", i), ReceivedAt: at,
				DetectedAt: at, From: h.from, Subject: h.subject, Kind: probe.KindHuman, Reason: "test", MatchedBy: probe.RungMessageID}, []byte("raw")); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.sendSummary(context.Background(), fire); err != nil {
			t.Fatalf("sendSummary = %v", err)
		}
		msgs := readAll(t, w, buyer, 1)
		if len(msgs) != 1 {
			t.Fatalf("procurement received %d mails, want the one summary", len(msgs))
		}
		checkSummaryMail(t, msgs[0], "supportprobe weekly summary 2026-W48", []string{"<" + buyer.Address + ">"})
		if got := readAll(t, w, lin, 0); len(got) != 0 {
			t.Errorf("lin.wei received %d mails; the summary went to a recipient it was not addressed to", len(got))
		}
	})
}

// summaryDaemon is a daemon with one vendor and one script (its subject a YAML
// double-quoted string) that sends summaries through w to procurement@example.com, its
// clock a minute past now.
func summaryDaemon(t *testing.T, w mailworld.World, lin mailworld.User, now time.Time, subject string) *Daemon {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(lin.Password), 0o600); err != nil {
		t.Fatal(err)
	}
	_, sp, _ := net.SplitHostPort(w.SMTPAddr())
	_, ip, _ := net.SplitHostPort(w.IMAPAddr())
	yaml := fmt.Sprintf(`state_dir: %s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: 127.0.0.1, port: %s, security: none, username: lin.wei@example.com, password_file: %s}
  imap: {host: 127.0.0.1, port: %s, security: none, username: lin.wei@example.com, password_file: %s, append_sent: false}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "%s", body: "Hello"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    domains: [acme.example]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h}}
summary: {cron: "0 9 * * MON", timezone: Asia/Shanghai, to: [procurement@example.com]}
`, filepath.Join(dir, "state"), sp, pw, ip, pw, subject)
	cfg, err := configs.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Logger: quiet, Now: func() time.Time { return now.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// summaryFields are the header fields RenderSummary writes, and partFields those of
// the MIME parts.
var (
	summaryFields = []string{"Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
	partFields    = []string{"Content-Disposition", "Content-Transfer-Encoding", "Content-Type"}
	// Received, Return-Path and Delivered-To are the delivering servers'.
	deliveryFields = []string{"Delivered-To", "Received", "Return-Path", "X-Original-To"}
)

// checkSummaryMail parses a delivered summary and checks its header and HTML are what
// supportprobe wrote, nothing added by the report's contents.
func checkSummaryMail(t *testing.T, raw []byte, subject string, to []string) {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse the summary: %v", err)
	}
	var keys []string
	for f := r.Header.Fields(); f.Next(); {
		if k := textproto.CanonicalMIMEHeaderKey(f.Key()); !slices.Contains(deliveryFields, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, summaryFields) {
		t.Errorf("summary header fields = %v, want exactly %v", keys, summaryFields)
	}
	if got, _ := r.Header.Subject(); got != subject {
		t.Errorf("Subject = %q, want %q", got, subject)
	}
	if got := r.Header.Values("To"); !slices.Equal(got, to) {
		t.Errorf("To = %q, want %q", got, to)
	}
	var html string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read the summary's parts: %v", err)
		}
		var h *message.Header
		switch ph := p.Header.(type) {
		case *gomail.InlineHeader:
			h = &ph.Header
		case *gomail.AttachmentHeader:
			h = &ph.Header
		}
		for f := h.Fields(); f.Next(); {
			if k := textproto.CanonicalMIMEHeaderKey(f.Key()); !slices.Contains(partFields, k) {
				t.Errorf("a part of the summary carries header field %s: %q", k, f.Value())
			}
		}
		body, _ := io.ReadAll(p.Body)
		if ct, _, _ := h.ContentType(); ct == "text/html" {
			html = string(body)
		}
	}
	if html == "" {
		t.Fatal("the summary has no text/html part")
	}
	checkReportHTML(t, html)
}

// reportTag matches an HTML start or end tag, reportQuoted a quoted attribute value, and
// reportAttr an attribute name (once the values are removed).
var (
	reportTag    = regexp.MustCompile(`</?([A-Za-z][A-Za-z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>`)
	reportQuoted = regexp.MustCompile(`"[^"]*"|'[^']*'`)
	reportAttr   = regexp.MustCompile(`([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=`)
)

// tagsAndAttrs returns the tags and attribute names in html, lower case.
func tagsAndAttrs(html string) (tags, attrs map[string]string) {
	tags, attrs = map[string]string{}, map[string]string{}
	for _, m := range reportTag.FindAllStringSubmatch(html, -1) {
		tags[strings.ToLower(m[1])] = m[0]
		for _, a := range reportAttr.FindAllStringSubmatch(reportQuoted.ReplaceAllString(m[2], `""`), -1) {
			attrs[strings.ToLower(a[1])] = m[0]
		}
	}
	return tags, attrs
}

// checkReportHTML fails for any tag or attribute the report and summary templates do
// not write, any script, event handler or javascript: URL, and checks the hostile
// subjects are in the page escaped, so the check is not passing on a page that left
// them out.
func checkReportHTML(t *testing.T, html string) {
	t.Helper()
	var tmpl []byte
	for _, name := range []string{"report.html.tmpl", "summary.html.tmpl"} {
		b, err := os.ReadFile(filepath.Join("..", "report", name))
		if err != nil {
			t.Fatalf("read the report template %s, a source of the tags allowed: %v", name, err)
		}
		tmpl = append(tmpl, b...)
	}
	allowedTags, allowedAttrs := tagsAndAttrs(string(tmpl))
	tags, attrs := tagsAndAttrs(html)
	for tag, where := range tags {
		if _, ok := allowedTags[tag]; !ok || tag == "script" {
			t.Errorf("the summary's HTML has a <%s> tag the template does not write: %.120q", tag, where)
		}
	}
	for attr, where := range attrs {
		if _, ok := allowedAttrs[attr]; !ok || strings.HasPrefix(attr, "on") {
			t.Errorf("the summary's HTML has a %s attribute the template does not write: %.120q", attr, where)
		}
	}
	for _, m := range reportTag.FindAllString(html, -1) {
		if strings.Contains(strings.ToLower(m), "javascript:") {
			t.Errorf("the summary's HTML has a javascript: URL in a tag: %.120q", m)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(document.cookie)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&lt;a href=javascript:alert(1)&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("the summary's HTML lacks the escaped hostile text %q: the replies did not reach it, so this test checked nothing", want)
		}
	}
}
