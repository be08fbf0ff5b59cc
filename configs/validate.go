package configs

import (
	"cmp"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"supportprobe/probe"
)

// validator turns the raw file into a Config, recording every problem rather than
// stopping at the first, so one `check` shows everything there is to fix.
type validator struct {
	p     *problems
	dir   string         // relative paths are resolved against it; "" keeps them as written
	lines map[string]int // line of each secret key, for SecretProblems
}

func validate(raw rawConfig, root *yaml.Node, p *problems, dir string) *Config {
	v := &validator{p: p, dir: dir, lines: map[string]int{}}
	r := top(root)
	c := &Config{StateDir: DefaultStateDir}
	if raw.StateDir != "" {
		if dir, ok := v.filePath(r.key("state_dir"), raw.StateDir); ok {
			c.StateDir = dir
		}
	}
	c.Mail = v.mail(r.key("mail"), raw.Mail)
	if c.Mail.OAuth2 != nil {
		c.Mail.OAuth2.TokenFile = filepath.Join(c.StateDir, TokenFileName)
	}
	var known map[string]bool
	c.Scripts, known = v.scripts(r.key("scripts"), raw.Scripts)
	c.Vendors = v.vendors(r.key("vendors"), raw.Vendors, known)
	if raw.Summary != nil {
		c.Summary = v.summary(r.key("summary"), raw.Summary)
	}
	if raw.HTTP != nil {
		c.HTTP = v.http(r.key("http"), raw.HTTP)
	}
	c.Dashboard = Dashboard{ReadOnly: true}
	if raw.Dashboard != nil {
		da := r.key("dashboard")
		if raw.Dashboard.ReadOnly != nil {
			c.Dashboard.ReadOnly = *raw.Dashboard.ReadOnly
		}
		if raw.HTTP == nil {
			v.p.addf(da, "the dashboard is served on the http listener, and the file has no http section; add one (http: {listen: \"127.0.0.1:9108\"}) or remove dashboard")
		}
	}
	if raw.Control != nil {
		g := strings.TrimSpace(raw.Control.Group)
		if g == "" || strings.ContainsAny(g, " :/") {
			v.p.addf(r.key("control").key("group"), "%q is not a group name; name the group whose members may use the control socket, e.g. supportprobe", raw.Control.Group)
		} else {
			c.ControlGroup = g
		}
	}
	if raw.Alerts != nil {
		c.Alerts = v.alerts(r.key("alerts"), raw.Alerts, c)
	}
	c.lines = v.lines
	return c
}

// filePath checks a path from the file and resolves it against the file's directory.
func (v *validator) filePath(a at, p string) (string, bool) {
	if strings.HasPrefix(p, "~") {
		v.p.addf(a, "%q: ~ is not expanded; write the full path", p)
		return "", false
	}
	if v.dir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(v.dir, p)
	}
	return p, true
}

// roleLocalParts are mailbox names that belong to a function, not a person. Help desks
// commonly drop mail from them or never acknowledge it, to avoid auto-reply loops, which
// would read as "vendor never answered".
var roleLocalParts = map[string]bool{
	"abuse": true, "admin": true, "administrator": true, "billing": true, "contact": true,
	"do-not-reply": true, "donotreply": true, "help": true, "helpdesk": true,
	"hostmaster": true, "info": true, "mailer-daemon": true, "no-reply": true,
	"noreply": true, "postmaster": true, "root": true, "sales": true, "security": true,
	"support": true, "webmaster": true,
}

func (v *validator) mail(a at, r *rawMail) Mail {
	var m Mail
	if r == nil {
		v.p.addf(a, "required: the mailbox probes are sent from and replies arrive in (from, smtp, imap)")
		return m
	}
	if from := a.key("from"); r.From == "" {
		v.p.addf(from, `required: the person probes are sent as, e.g. "Lin Wei <lin.wei@example.com>"`)
	} else if addr, err := parseAddress(r.From); err != nil {
		v.p.add(from, err)
	} else {
		local, _, _ := strings.Cut(strings.ToLower(addr.Address), "@")
		local, _, _ = strings.Cut(local, "+")
		if roleLocalParts[local] {
			v.p.addf(from, "%q is a role address; help desks often drop or never acknowledge mail from role addresses (support@, noreply@, info@, admin@ …), which would read as \"vendor never answered\"; send as a person's mailbox", addr.Address)
		} else {
			m.From = *addr
		}
	}
	m.PlusAddressing = r.PlusAddressing
	name, pre, chose := v.applyPreset(a, r)
	m.Provider, m.Preset, m.IMAP.ProviderFilesSent = name, chose, pre.filesSent
	if sa := a.key("smtp"); r.SMTP == nil {
		v.p.addf(sa, "required: the server probes are sent through (host, port, security, username, password_file or password_env)")
	} else {
		m.SMTP = v.server(sa, r.SMTP, false)
	}
	ia := a.key("imap")
	if r.IMAP == nil {
		v.p.addf(ia, "required: the server replies are read from (host, port, security, username, password_file or password_env)")
		return m
	}
	m.IMAP.Server = v.server(ia, &r.IMAP.rawServer, true)
	m.IMAP.Folders = slices.Clone(DefaultFolders)
	if fa := ia.key("folders"); fa.present() {
		if len(r.IMAP.Folders) == 0 {
			v.p.addf(fa, "empty; list the folders to watch, or omit folders: for %s", strings.Join(DefaultFolders, ", "))
		}
		seen := map[string]bool{}
		m.IMAP.Folders = nil
		for i, f := range r.IMAP.Folders {
			if strings.HasPrefix(f, `\`) {
				attr, ok := folderAttr(f)
				if !ok {
					v.p.addf(fa.item(i, ""), "%s is not a special-use attribute supportprobe watches (%s): write one of those for the folder the server marks so, or a folder name without the leading backslash",
						f, strings.Join(FolderAttrs, ", "))
				}
				f = attr
			}
			switch {
			case strings.TrimSpace(f) == "":
				v.p.addf(fa.item(i, ""), "empty folder name")
			case seen[f] && strings.HasPrefix(f, `\`):
				v.p.addf(fa.item(i, ""), "%s is listed twice", f)
			case seen[f]:
				v.p.addf(fa.item(i, ""), "folder %q is listed twice", f)
			}
			seen[f] = true
			m.IMAP.Folders = append(m.IMAP.Folders, f)
		}
	}
	m.OAuth2 = v.oauth2(a, r, &m)
	m.IMAP.AppendSent = r.IMAP.AppendSent == nil || *r.IMAP.AppendSent
	m.IMAP.SentFolder = DefaultSentFolder
	m.IMAP.DiscoverSent = r.IMAP.SentFolder == nil
	if r.IMAP.SentFolder != nil {
		m.IMAP.SentFolder = *r.IMAP.SentFolder
		if strings.TrimSpace(m.IMAP.SentFolder) == "" && m.IMAP.AppendSent {
			v.p.addf(ia.key("sent_folder"), "empty; name the folder sent probes are appended to, or set append_sent: false")
		}
	}
	return m
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (v *validator) server(a at, r *rawServer, imap bool) Server {
	s := Server{Security: SecurityTLS, Timeout: DefaultTimeout}

	ha := a.key("host")
	s.Host = strings.TrimSpace(r.Host)
	switch {
	case s.Host == "":
		v.p.addf(ha, "required: the server's name or IP address")
	case strings.ContainsAny(s.Host, " \t/@"):
		v.p.addf(ha, "%q is not a host name or IP address", r.Host)
	case strings.Contains(s.Host, ":") && !isIP(s.Host):
		v.p.addf(ha, "%q includes a port; set it with the port key instead", r.Host)
	}

	if r.Security != "" {
		switch sec := Security(strings.ToLower(r.Security)); sec {
		case SecurityTLS, SecurityStartTLS, SecurityNone:
			s.Security = sec
		default:
			v.p.addf(a.key("security"), "unknown security %q (want tls, starttls or none)", r.Security)
		}
	}
	if s.Security == SecurityNone && s.Host != "" && !isLoopback(s.Host) {
		v.p.addf(a.key("security"), "none sends the password in the clear and is allowed only for a loopback host (localhost, 127.0.0.1, ::1), not %q; use tls or starttls", s.Host)
	}

	switch {
	case r.Port != nil:
		s.Port = *r.Port
		if s.Port < 1 || s.Port > 65535 {
			v.p.addf(a.key("port"), "%d is out of range (want 1 to 65535)", s.Port)
		}
	case imap && s.Security == SecurityTLS:
		s.Port = 993
	case imap:
		s.Port = 143
	case s.Security == SecurityTLS:
		s.Port = 465
	case s.Security == SecurityStartTLS:
		s.Port = 587
	default:
		s.Port = 25
	}

	s.Username = r.Username
	s.Auth = AuthPassword
	switch auth := Auth(strings.ToLower(r.Auth)); auth {
	case "", AuthPassword:
	case AuthOAuth2:
		s.Auth = auth
		if s.Username == "" {
			v.p.addf(a.key("username"), "required with auth oauth2: the mailbox's address, which the token is presented for")
		}
		for _, k := range []string{"password", "password_file", "password_env"} {
			if a.key(k).present() {
				v.p.addf(a.key(k), "auth oauth2 logs in with a token, not a password; remove %s", k)
			}
		}
	default:
		v.p.addf(a.key("auth"), "unknown auth %q (want password or oauth2)", r.Auth)
	}
	v.tls(a, r, &s)
	if s.Auth == AuthOAuth2 {
		s.Timeout = v.timeout(a, r.Timeout, s.Timeout)
		return s
	}
	literal := r.Password != nil
	if literal {
		v.p.addf(a.key("password"), "a password may not be written in the configuration; put it in a file named by password_file, or in an environment variable named by password_env")
	}
	s.Password = v.secret(a, "password", r.PasswordFile, r.PasswordEnv)
	hasPassword := r.PasswordFile != "" || r.PasswordEnv != "" || literal
	switch {
	case imap && s.Username == "":
		v.p.addf(a.key("username"), "required: the IMAP login name")
	case s.Username == "" && hasPassword:
		v.p.addf(a.key("username"), "required when a password is set")
	}
	if s.Username != "" && !hasPassword {
		v.p.addf(a.lineOf("username"), "username %q has no password; set password_file or password_env", s.Username)
	}

	s.Timeout = v.timeout(a, r.Timeout, s.Timeout)
	return s
}

// tls checks a server's ca_file and server_name. There is deliberately no key to skip
// certificate verification: a private CA goes in ca_file, a certificate for another name
// is named in server_name.
func (v *validator) tls(a at, r *rawServer, s *Server) {
	if r.CAFile != "" {
		fa := a.key("ca_file")
		if f, ok := v.filePath(fa, r.CAFile); ok {
			if s.Security == SecurityNone {
				v.p.addf(fa, "security none uses no TLS, so ca_file has no effect; use security tls or starttls, or remove it")
			}
			s.CAFile = f
		}
	}
	if name := strings.TrimSpace(r.ServerName); name != "" {
		if strings.ContainsAny(name, " /:@") {
			v.p.addf(a.key("server_name"), "%q is not a host name (the name on the server's certificate, e.g. mail.example.com)", r.ServerName)
		} else {
			s.ServerName = name
		}
	}
}

// timeout validates a server's timeout key, returning def when it is omitted or wrong.
func (v *validator) timeout(a at, raw string, def time.Duration) time.Duration {
	if raw == "" {
		return def
	}
	ta := a.key("timeout")
	d, err := parseDuration(raw)
	switch {
	case err != nil:
		v.p.add(ta, err)
	case d <= 0:
		v.p.addf(ta, "must be more than 0")
	default:
		return d
	}
	return def
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

// isLoopback reports whether host names this machine: "localhost" or a loopback address
// (127.0.0.0/8, ::1, IPv4 loopback mapped into IPv6). Other names that happen to resolve
// to a loopback address do not count: what they resolve to can change.
func isLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	if h == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && addr.Unmap().IsLoopback()
}

// parseAddress parses one RFC 5322 address, with an error that quotes it.
func parseAddress(s string) (*mail.Address, error) {
	if !strings.Contains(s, "@") {
		return nil, fmt.Errorf("%q is not an email address (no @)", s)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an email address (%s)", s, strings.TrimPrefix(err.Error(), "mail: "))
	}
	return addr, nil
}

// safeName is what vendor names and script ids may hold: they are keys in the database
// and arguments on the command line.
var safeName = regexp.MustCompile(`^[a-z0-9._-]+$`)

// checkName checks a vendor name or script id and reports at a what is wrong with it.
func (v *validator) checkName(a at, name, what string) bool {
	switch {
	case name == "":
		v.p.addf(a, "required: the %s's name, e.g. %q", what, map[string]string{"vendor": "acme-cloud", "script": "outage-en"}[what])
		return false
	case !safeName.MatchString(name):
		v.p.addf(a, "%q may use only a-z, 0-9, '.', '_' and '-' (it names the %s in the database and on the command line)", name, what)
		return false
	}
	return true
}

var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

func (v *validator) scripts(a at, rs []rawScript) ([]probe.Script, map[string]bool) {
	known := map[string]bool{}
	if len(rs) == 0 {
		v.p.addf(a, "required: at least one inquiry to send")
		return nil, known
	}
	var out []probe.Script
	first := map[string]int{}
	for i, r := range rs {
		ia := a.item(i, r.ID)
		ok := v.checkName(ia.key("id"), r.ID, "script")
		if j, dup := first[r.ID]; dup && r.ID != "" {
			v.p.addf(ia.key("id"), "%q is already the id of scripts[%d]", r.ID, j)
			ok = false
		} else {
			first[r.ID] = i
		}
		known[r.ID] = true
		switch la := ia.key("language"); {
		case r.Language == "":
			v.p.addf(la, "required: the script's language, a short tag such as en, zh or ja")
			ok = false
		case !languageTag.MatchString(r.Language):
			v.p.addf(la, "%q is not a language tag (want a short tag such as en, zh or ja)", r.Language)
			ok = false
		}
		var prio probe.Priority
		if pa := ia.key("priority"); r.Priority == "" {
			v.p.addf(pa, "required: P1 (most urgent) to P4")
			ok = false
		} else if p, err := probe.ParsePriority(r.Priority); err != nil {
			v.p.add(pa, err)
			ok = false
		} else {
			prio = p
		}
		for _, k := range []struct{ key, val string }{{"subject", r.Subject}, {"body", r.Body}} {
			if strings.TrimSpace(k.val) == "" {
				v.p.addf(ia.key(k.key), "required: the inquiry's %s, a text/template", k.key)
				ok = false
			}
		}
		if !ok {
			continue
		}
		s, err := probe.NewScript(r.ID, r.Language, prio, r.Subject, r.Body, r.Vars)
		if err != nil {
			v.p.add(ia.lineOf(prefixKey(err, "subject", "body", "vars")), err)
			continue
		}
		if s.Followups, ok = v.followups(ia.key("followups"), r); !ok {
			continue
		}
		out = append(out, s)
	}
	return out, known
}

// followups validates a script's follow-ups: each has exactly one of after_response
// and if_unanswered, a positive duration, and a body that renders like the script's.
func (v *validator) followups(a at, r rawScript) ([]probe.FollowupSpec, bool) {
	var out []probe.FollowupSpec
	ok := true
	for i, f := range r.Followups {
		fa := a.item(i, "")
		var kind probe.FollowupKind
		var key, val string
		switch {
		case f.AfterResponse != "" && f.IfUnanswered != "":
			v.p.addf(fa, "after_response and if_unanswered are exclusive: give one per follow-up")
			ok = false
			continue
		case f.AfterResponse != "":
			kind, key, val = probe.FollowupAfterResponse, "after_response", f.AfterResponse
		case f.IfUnanswered != "":
			kind, key, val = probe.FollowupReminder, "if_unanswered", f.IfUnanswered
		default:
			v.p.addf(fa, "required: after_response (e.g. 10m) or if_unanswered (e.g. 4h)")
			ok = false
			continue
		}
		d, err := parseDuration(val)
		if err == nil && d <= 0 {
			err = fmt.Errorf("duration %q must be positive", val)
		}
		if err != nil {
			v.p.add(fa.key(key), err)
			ok = false
			continue
		}
		if strings.TrimSpace(f.Body) == "" {
			v.p.addf(fa.key("body"), "required: the follow-up's text, a text/template")
			ok = false
			continue
		}
		spec, err := probe.NewFollowupSpec(kind, d, f.Body, r.Vars)
		if err != nil {
			v.p.add(fa.key("body"), err)
			ok = false
			continue
		}
		out = append(out, spec)
	}
	return out, ok
}

// prefixKey returns the first of keys that err's message starts with ("body: …"), so the
// message is reported on that key's line; "" if none.
func prefixKey(err error, keys ...string) string {
	for _, k := range keys {
		if strings.HasPrefix(err.Error(), k+":") || strings.HasPrefix(err.Error(), k+" ") {
			return k
		}
	}
	return ""
}

// loadZone loads an IANA time zone named in the file.
func loadZone(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, fmt.Errorf("required: an IANA time zone such as America/Los_Angeles or Asia/Shanghai")
	case "Local":
		return nil, fmt.Errorf(`"Local" depends on the machine supportprobe runs on; name the zone, e.g. Asia/Shanghai`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as America/Los_Angeles or Asia/Shanghai)", name)
	}
	return loc, nil
}

func (v *validator) vendors(a at, rs []rawVendor, scripts map[string]bool) []probe.Vendor {
	if len(rs) == 0 {
		v.p.addf(a, "required: at least one vendor to probe")
		return nil
	}
	var out []probe.Vendor
	first := map[string]int{}
	for i, r := range rs {
		va := a.item(i, r.Name)
		ok := v.checkName(va.key("name"), r.Name, "vendor")
		if j, dup := first[r.Name]; dup && r.Name != "" {
			v.p.addf(va.key("name"), "%q is already the name of vendors[%d]", r.Name, j)
			ok = false
		} else {
			first[r.Name] = i
		}
		if vendor, vok := v.vendor(va, r, scripts); ok && vok {
			out = append(out, vendor)
		}
	}
	return out
}

func (v *validator) vendor(a at, r rawVendor, scripts map[string]bool) (probe.Vendor, bool) {
	nerr := len(v.p.list)
	vd := probe.Vendor{Name: r.Name, Deadline: DefaultDeadline}

	ta := a.key("to")
	if len(r.To) == 0 {
		v.p.addf(ta, "required: the vendor's support addresses, e.g. [support@acme.example]")
	}
	var toDomains []string
	for i, s := range r.To {
		addr, err := parseAddress(s)
		if err != nil {
			v.p.add(ta.item(i, ""), err)
			continue
		}
		vd.To = append(vd.To, strings.TrimSpace(s))
		if _, d, ok := strings.Cut(addr.Address, "@"); ok && !slices.Contains(toDomains, strings.ToLower(d)) {
			toDomains = append(toDomains, strings.ToLower(d))
		}
	}

	if da := a.key("domains"); da.present() {
		if len(r.Domains) == 0 {
			v.p.addf(da, "empty; list the domains the vendor answers from, or omit domains: to use those of to:")
		}
		for i, d := range r.Domains {
			switch ia := da.item(i, ""); {
			case strings.TrimSpace(d) == "":
				v.p.addf(ia, "empty domain")
			case d != strings.ToLower(d):
				v.p.addf(ia, "%q must be lower case (%q)", d, strings.ToLower(d))
			case strings.ContainsAny(d, "@ /:") || strings.HasPrefix(d, ".") || !strings.Contains(d, "."):
				v.p.addf(ia, "%q is not a mail domain (want e.g. acme.example, without @)", d)
			default:
				vd.Domains = append(vd.Domains, d)
			}
		}
	} else {
		vd.Domains = toDomains
	}

	zone := a.key("timezone")
	loc, err := loadZone(r.Timezone)
	if err != nil {
		v.p.add(zone, err)
	}

	// Business hours are checked even when the zone is bad, in UTC, so that one run
	// reports their problems too; the result is then discarded.
	spec := probe.HoursSpec{Zone: "UTC"}
	if loc != nil {
		spec.Zone = loc.String()
	}
	ha := a.key("business_hours")
	if h := r.BusinessHours; h != nil {
		spec.Days, spec.Open, spec.Close, spec.Holidays = h.Days, h.Open, h.Close, h.Holidays
		if len(h.Days) == 0 && h.Open == "" && h.Close == "" && len(h.Holidays) > 0 {
			v.p.addf(ha.lineOf("holidays"), "holidays are listed but no days, open or close, which means open around the clock; give the business week too, or drop holidays")
		}
	}
	if hours, err := probe.NewBusinessHours(spec); err != nil {
		key := prefixKey(err, "days", "open", "close", "holidays")
		if strings.HasPrefix(err.Error(), "close ") {
			key = "close"
		}
		v.p.add(ha.lineOf(key), err)
	} else {
		vd.Hours = hours
	}

	if r.Deadline != "" {
		da := a.key("deadline")
		if d, err := parseDuration(r.Deadline); err != nil {
			v.p.add(da, err)
		} else if d == 0 {
			v.p.addf(da, "must be more than 0 (how long to wait for a human reply, e.g. 7d)")
		} else {
			vd.Deadline = d
		}
	}

	vd.SLA = v.sla(a.key("sla"), r.SLA, vd.Deadline)

	if r.TicketKey != "" {
		ka := a.key("ticket_key")
		re, err := compileTicketKey(r.TicketKey)
		if err != nil {
			v.p.add(ka, err)
		} else {
			vd.TicketKey = re
		}
	}

	sa := a.key("schedules")
	for i, rs := range r.Schedules {
		if s, ok := v.schedule(sa.item(i, ""), rs, loc, scripts); ok {
			vd.Schedules = append(vd.Schedules, s)
		}
	}

	if r.Limits != nil {
		vd.Limits = v.limits(a.key("limits"), *r.Limits)
	}

	ra := a.key("rules")
	for i, rr := range r.Rules {
		if rule, ok := v.rule(ra.item(i, rr.Name), rr); ok {
			vd.Rules = append(vd.Rules, rule)
		}
	}

	pa := a.key("pause")
	for i, rp := range r.Pause {
		if p, ok := v.pause(pa.item(i, ""), r.Name, rp); ok {
			vd.Pauses = append(vd.Pauses, p)
		}
	}
	return vd, len(v.p.list) == nerr
}

// pause validates one maintenance window: from and until, both RFC 3339 times with
// their offset (a window is an instant range, never a wall-clock one that daylight
// saving could shift), until after from.
func (v *validator) pause(a at, vendor string, r rawPause) (probe.Pause, bool) {
	nerr := len(v.p.list)
	p := probe.Pause{Vendor: vendor, Note: strings.TrimSpace(r.Note), Source: probe.PauseConfig}
	parse := func(key, s string) time.Time {
		ka := a.key(key)
		if strings.TrimSpace(s) == "" {
			v.p.addf(ka, "required: an RFC 3339 time with its offset, e.g. 2026-12-24T00:00:00+01:00")
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			v.p.addf(ka, "%q is not an RFC 3339 time with its offset (want e.g. 2026-12-24T00:00:00+01:00)", s)
		}
		return t
	}
	p.From, p.Until = parse("from", r.From), parse("until", r.Until)
	if len(v.p.list) == nerr && !p.Until.After(p.From) {
		v.p.addf(a.key("until"), "%q is not after from %q", r.Until, r.From)
	}
	return p, len(v.p.list) == nerr
}

// rule validates one classification override: a name, at least one condition, and a
// kind the classifier knows.
func (v *validator) rule(a at, r rawRule) (probe.Rule, bool) {
	nerr := len(v.p.list)
	out := probe.Rule{Name: r.Name, From: strings.ToLower(strings.TrimSpace(r.From))}
	if r.Name == "" {
		v.p.addf(a, "name: required: it is quoted in the reason of every decision the rule makes")
	}
	if r.From == "" && r.Subject == "" {
		v.p.addf(a, "give from (an address or @domain) or subject (a regular expression), or both; a rule without a condition would decide every mail")
	}
	if out.From != "" && !strings.Contains(out.From, "@") {
		v.p.addf(a.key("from"), "%q: want an address (agent@acme.example) or a domain written @acme.example", r.From)
	}
	if r.Subject != "" {
		re, err := regexp.Compile(r.Subject)
		if err != nil {
			v.p.addf(a.key("subject"), "bad regular expression %q: %v", r.Subject, err)
		} else {
			out.Subject = re
		}
	}
	out.Kind = probe.Kind(r.Kind)
	if !slices.Contains(probe.Kinds, out.Kind) {
		v.p.addf(a.key("kind"), "unknown kind %q (want human, auto_ack, out_of_office, bounce or other)", r.Kind)
	}
	return out, len(v.p.list) == nerr
}

// compileTicketKey compiles a vendor's ticket-key pattern, which must capture the key in
// its only group.
func compileTicketKey(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		// regexp's message quotes the offending part of the pattern.
		return nil, fmt.Errorf("bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if n := re.NumSubexp(); n != 1 {
		return nil, fmt.Errorf("%#q has %d capture groups; want exactly one, around the key itself, as in `\\[#(\\d+)\\]` (write other groups as (?:…))", s, n)
	}
	return re, nil
}

func (v *validator) sla(a at, raw map[string]rawSLA, deadline time.Duration) map[probe.Priority]probe.SLATarget {
	if len(raw) == 0 {
		return nil
	}
	// Document order, so problems come out in file order; keys only reachable through
	// a merge ("<<") follow, sorted.
	keys := a.keys()
	var rest []string
	for k := range raw {
		if !slices.Contains(keys, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	out := map[probe.Priority]probe.SLATarget{}
	seen := map[probe.Priority]string{}
	for _, k := range append(keys, rest...) {
		r, ok := raw[k]
		if !ok {
			continue
		}
		pa := a.key(k)
		p, err := probe.ParsePriority(k)
		if err != nil {
			// The key itself is wrong, so the path stops at sla.
			v.p.addf(a.lineOf(k), "unknown priority %q (the keys of sla are P1, P2, P3 and P4)", k)
			continue
		}
		if prev, dup := seen[p]; dup {
			v.p.addf(pa, "%s is given twice (also as %q)", p, prev)
			continue
		}
		seen[p] = k
		t := probe.SLATarget{Clock: probe.Calendar}
		ok = true
		fa := pa.key("first_response")
		if r.FirstResponse == "" {
			v.p.addf(fa, "required: the promised time to a first human response, e.g. 1h")
			ok = false
		} else if d, err := parseDuration(r.FirstResponse); err != nil {
			v.p.add(fa, err)
			ok = false
		} else if d == 0 {
			v.p.addf(fa, "must be more than 0")
			ok = false
		} else {
			t.FirstResponse = d
		}
		switch c := probe.Clock(strings.ToLower(r.Clock)); c {
		case "":
		case probe.Calendar, probe.Business:
			t.Clock = c
		default:
			v.p.addf(pa.key("clock"), "unknown clock %q (want calendar or business)", r.Clock)
			ok = false
		}
		if ok && t.Clock == probe.Calendar && t.FirstResponse > deadline {
			v.p.addf(fa, "%s is longer than the vendor's deadline %s, after which a probe stops waiting; raise the deadline", r.FirstResponse, formatDuration(deadline))
			ok = false
		}
		if ok {
			out[p] = t
		}
	}
	return out
}

func (v *validator) schedule(a at, r rawSchedule, vendorLoc *time.Location, scripts map[string]bool) (probe.Schedule, bool) {
	nerr := len(v.p.list)
	s := probe.Schedule{Spec: strings.TrimSpace(r.Cron), Location: vendorLoc}
	if r.Timezone != "" {
		loc, err := loadZone(r.Timezone)
		if err != nil {
			v.p.add(a.key("timezone"), err)
		}
		s.Location = loc
	}
	// With no usable zone the spec is still checked, in UTC; the zone's own error has
	// been reported already.
	if err := checkCron(r.Cron, cmp.Or(s.Location, time.UTC)); err != nil {
		v.p.add(a.key("cron"), err)
	}
	sa := a.key("scripts")
	if len(r.Scripts) == 0 {
		v.p.addf(sa, "required: at least one script id to send, e.g. [%s]", firstKey(scripts))
	}
	for i, id := range r.Scripts {
		if !scripts[id] {
			v.p.addf(sa.item(i, ""), "unknown script %q (the scripts are: %s)", id, strings.Join(sortedKeys(scripts), ", "))
		}
	}
	s.Scripts = r.Scripts
	if r.Jitter != "" {
		if d, err := parseDuration(r.Jitter); err != nil {
			v.p.add(a.key("jitter"), err)
		} else {
			s.Jitter = d
		}
	}
	return s, len(v.p.list) == nerr
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func firstKey(m map[string]bool) string {
	if keys := sortedKeys(m); len(keys) > 0 {
		return keys[0]
	}
	return "outage-en"
}

func (v *validator) limits(a at, r rawLimits) probe.Limits {
	l := probe.Limits{MaxPerDay: r.MaxPerDay, MaxPerWeek: r.MaxPerWeek}
	if r.MaxPerDay < 0 {
		v.p.addf(a.key("max_per_day"), "%d is negative (0 or omitted means no limit)", r.MaxPerDay)
	}
	if r.MaxPerWeek < 0 {
		v.p.addf(a.key("max_per_week"), "%d is negative (0 or omitted means no limit)", r.MaxPerWeek)
	}
	if r.MaxPerDay > 0 && r.MaxPerWeek > 0 && r.MaxPerWeek < r.MaxPerDay {
		v.p.addf(a.key("max_per_week"), "%d is less than max_per_day %d", r.MaxPerWeek, r.MaxPerDay)
	}
	if r.MinSpacing != "" {
		if d, err := parseDuration(r.MinSpacing); err != nil {
			v.p.add(a.key("min_spacing"), err)
		} else {
			l.MinSpacing = d
		}
	}
	return l
}

func (v *validator) summary(a at, r *rawSummary) *Summary {
	s := &Summary{Spec: strings.TrimSpace(r.Cron)}
	loc, zoneErr := loadZone(r.Timezone)
	if err := checkCron(r.Cron, cmp.Or(loc, time.UTC)); err != nil {
		v.p.add(a.key("cron"), err)
	}
	if zoneErr != nil {
		v.p.add(a.key("timezone"), zoneErr)
	}
	s.Location = loc
	ta := a.key("to")
	if len(r.To) == 0 {
		v.p.addf(ta, "required: who receives the summary, e.g. [procurement@example.com]")
	}
	for i, to := range r.To {
		if _, err := parseAddress(to); err != nil {
			v.p.add(ta.item(i, ""), err)
			continue
		}
		s.To = append(s.To, strings.TrimSpace(to))
	}
	return s
}

func (v *validator) http(a at, r *rawHTTP) *HTTP {
	la := a.key("listen")
	listen := strings.TrimSpace(r.Listen)
	if listen == "" {
		v.p.addf(la, "required: the address /metrics and /healthz are served on, e.g. 127.0.0.1:9108")
		return nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		v.p.addf(la, "%q is not host:port, e.g. 127.0.0.1:9108", r.Listen)
		return nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.p.addf(la, "port %q is not a number from 0 to 65535", port)
		return nil
	}
	if !r.AllowRemote && !isLoopback(host) {
		what := fmt.Sprintf("%q", host)
		if host == "" {
			what = "every interface"
		}
		v.p.addf(la, "%s is not a loopback host, so anyone on the network could read the metrics; listen on localhost, 127.0.0.1 or ::1, or set http.allow_remote: true (with http.auth and TLS)", what)
		return nil
	}
	h := &HTTP{Listen: listen, AllowRemote: r.AllowRemote, InsecurePlaintext: r.InsecurePlaintext}
	ok := true
	if r.Auth != nil {
		aa := a.key("auth")
		if r.Auth.BearerTokensFile == "" && r.Auth.BasicFile == "" {
			v.p.addf(aa, "names no credentials; set bearer_tokens_file or basic_file, or remove auth")
			ok = false
		}
		if f := r.Auth.BearerTokensFile; f != "" {
			if p, fine := v.filePath(aa.key("bearer_tokens_file"), f); fine {
				h.Auth.BearerTokensFile = p
			} else {
				ok = false
			}
		}
		if f := r.Auth.BasicFile; f != "" {
			if p, fine := v.filePath(aa.key("basic_file"), f); fine {
				h.Auth.BasicFile = p
			} else {
				ok = false
			}
		}
	}
	switch {
	case r.CertFile != "" && r.KeyFile == "":
		v.p.addf(a.lineOf("cert_file"), "cert_file is set without key_file; set both to serve HTTPS, or neither")
		ok = false
	case r.KeyFile != "" && r.CertFile == "":
		v.p.addf(a.lineOf("key_file"), "key_file is set without cert_file; set both to serve HTTPS, or neither")
		ok = false
	case r.CertFile != "":
		cp, cok := v.filePath(a.key("cert_file"), r.CertFile)
		kp, kok := v.filePath(a.key("key_file"), r.KeyFile)
		h.CertFile, h.KeyFile, ok = cp, kp, ok && cok && kok
	}
	if r.InsecurePlaintext && !r.AllowRemote {
		v.p.addf(a.key("insecure_plaintext"), "has effect only with allow_remote: true; remove it (a loopback listener needs no TLS)")
		ok = false
	}
	if r.InsecurePlaintext && r.CertFile != "" {
		v.p.addf(a.key("insecure_plaintext"), "contradicts cert_file and key_file, which serve TLS; remove insecure_plaintext")
		ok = false
	}
	if r.AllowRemote {
		ra := a.lineOf("allow_remote")
		if r.Auth == nil { // an auth section naming nothing is reported above
			v.p.addf(ra, "allow_remote: true needs authentication: set http.auth.bearer_tokens_file (one token per line) or http.auth.basic_file (user:bcrypt-hash lines, as htpasswd -B writes); only /healthz stays open")
			ok = false
		}
		if r.CertFile == "" && r.KeyFile == "" && !r.InsecurePlaintext {
			v.p.addf(ra, "allow_remote: true needs TLS so that credentials and metrics are not sent in the clear: set http.cert_file and http.key_file, or, on a network you trust, http.insecure_plaintext: true")
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return h
}

// secret checks a pair of keys NAME_file and NAME_env (password_file, secret_env…), of
// which at most one may be set, and returns the Secret they name; the zero Secret when
// neither is set or the one set is invalid (the problem is recorded).
func (v *validator) secret(a at, name, file, env string) Secret {
	fileKey, envKey := name+"_file", name+"_env"
	switch {
	case file != "" && env != "":
		v.p.addf(a.lineOf(envKey), "%s and %s are both set; keep one", fileKey, envKey)
	case file != "":
		fa := a.key(fileKey)
		if f, ok := v.filePath(fa, file); ok {
			v.lines[fa.path] = fa.line
			return Secret{File: f}
		}
	case env != "":
		ea := a.key(envKey)
		if !envName.MatchString(env) {
			v.p.addf(ea, "%q is not an environment variable name (letters, digits and _, not starting with a digit)", env)
		} else {
			v.lines[ea.path] = ea.line
			return Secret{Env: env}
		}
	}
	return Secret{}
}

// folderAttr returns the canonical spelling of a special-use attribute in FolderAttrs,
// whatever its case; ok is false for any other entry.
func folderAttr(entry string) (attr string, ok bool) {
	for _, a := range FolderAttrs {
		if strings.EqualFold(entry, a) {
			return a, true
		}
	}
	return entry, false
}
