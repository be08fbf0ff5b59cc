package mailworld

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Memory is an in-process mail world: an imapserver over imapmemserver and a go-smtp server,
// each on its own 127.0.0.1 port. Start it with StartMemory; the caller must call Close.
//
// Every user has the mailboxes INBOX, Sent and Junk, without special-use attributes, unless
// added with AddUserWithFolders, whose folders may carry them (the world advertises
// SPECIAL-USE, and answers LIST with the attributes itself, as imapmemserver keeps none). The SMTP server accepts any MAIL FROM, accepts RCPT TO only for
// the world's users (with an optional "+detail"), and answers 250 to DATA only after the
// message is in every recipient's INBOX. Each delivered copy starts with Return-Path,
// Delivered-To (the recipient as given in RCPT TO, "+detail" included) and a Received line,
// as a real MTA writes them, and its INTERNALDATE is the time DATA completed.
type Memory struct {
	imapLn, smtpLn net.Listener
	imapSrv        *imapserver.Server
	smtpSrv        *smtp.Server
	mem            *imapmemserver.Server
	serving        sync.WaitGroup

	mu     sync.Mutex
	closed bool
	order  []string                   // addresses in the order they were added
	users  map[string]*memUser        // by address
	faults map[string]*smtp.SMTPError // by lower-cased RCPT TO address

	closeOnce sync.Once
	closeErr  error
}

type memUser struct {
	User
	imap *imapmemserver.User
	// names are the folder names the user may have (created at AddUser or over IMAP);
	// special their special-use attributes. Guarded by Memory.mu.
	names   map[string]bool
	special map[string][]imap.MailboxAttr
}

// memMailboxes are the mailboxes every Memory user starts with.
var memMailboxes = []string{"INBOX", "Sent", "Junk"}

var _ World = (*Memory)(nil)

// StartMemory starts an in-process mail world with the given users and returns once both
// servers accept connections. It returns an error wrapping ErrInvalidUser or ErrUserExists
// for a bad user list, or the listener's error. The caller must call Close.
func StartMemory(users ...User) (*Memory, error) {
	m := &Memory{
		mem:    imapmemserver.New(),
		users:  make(map[string]*memUser),
		faults: make(map[string]*smtp.SMTPError),
	}
	for _, u := range users {
		if err := m.AddUser(u); err != nil {
			return nil, fmt.Errorf("start memory mail world: %w", err)
		}
	}

	var err error
	if m.imapLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start memory mail world: imap: %w", err)
	}
	if m.smtpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		m.imapLn.Close()
		return nil, fmt.Errorf("start memory mail world: smtp: %w", err)
	}

	quiet := log.New(io.Discard, "", 0)
	m.imapSrv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &specialSession{Session: m.mem.NewSession(), m: m}, nil, nil
		},
		// IMAP4rev1 like Dovecot, plus the extensions imapmemserver implements.
		Caps: imap.CapSet{
			imap.CapIMAP4rev1:    {},
			imap.CapNamespace:    {},
			imap.CapUIDPlus:      {},
			imap.CapMove:         {},
			imap.CapESearch:      {},
			imap.CapListExtended: {},
			imap.CapListStatus:   {},
			imap.CapStatusSize:   {},
			imap.CapLiteralPlus:  {},
			imap.CapSpecialUse:   {}, // answered by specialSession
		},
		Logger:       quiet,
		InsecureAuth: true, // plain text is fine: the server listens on loopback only
	})

	m.smtpSrv = smtp.NewServer(smtpBackend{m})
	m.smtpSrv.Domain = Hostname
	m.smtpSrv.AllowInsecureAuth = true // loopback only
	m.smtpSrv.MaxMessageBytes = 10 << 20
	m.smtpSrv.MaxRecipients = 100
	m.smtpSrv.ReadTimeout = time.Minute
	m.smtpSrv.WriteTimeout = time.Minute
	m.smtpSrv.ErrorLog = quiet

	m.serving.Add(2)
	go func() {
		defer m.serving.Done()
		_ = m.imapSrv.Serve(m.imapLn) // ends when Close closes the listener
	}()
	go func() {
		defer m.serving.Done()
		_ = m.smtpSrv.Serve(m.smtpLn) // ends when Close closes the listener
	}()
	return m, nil
}

// SMTPAddr returns the SMTP server's address, "127.0.0.1:PORT".
func (m *Memory) SMTPAddr() string { return m.smtpLn.Addr().String() }

// IMAPAddr returns the IMAP server's address, "127.0.0.1:PORT".
func (m *Memory) IMAPAddr() string { return m.imapLn.Addr().String() }

// Users returns a copy of the world's users in the order they were added.
func (m *Memory) Users() []User {
	m.mu.Lock()
	defer m.mu.Unlock()
	users := make([]User, 0, len(m.order))
	for _, addr := range m.order {
		users = append(users, m.users[addr].User)
	}
	return users
}

// AddUser adds u with the mailboxes INBOX, Sent and Junk. The user can log in and receive
// mail as soon as AddUser returns. It returns an error wrapping ErrInvalidUser, ErrUserExists
// or ErrClosed.
func (m *Memory) AddUser(u User) error {
	return m.addUser(u, memMailboxes, nil)
}

// addUser adds u with the folders names, special their special-use attributes.
func (m *Memory) addUser(u User, names []string, special map[string][]imap.MailboxAttr) error {
	if err := checkUser(u); err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("add user %s: %w", u.Address, ErrClosed)
	}
	if m.users[u.Address] != nil {
		return fmt.Errorf("add user %s: %w", u.Address, ErrUserExists)
	}
	iu := imapmemserver.NewUser(u.Address, u.Password)
	mu := &memUser{User: u, imap: iu, names: map[string]bool{}, special: special}
	if mu.special == nil {
		mu.special = map[string][]imap.MailboxAttr{}
	}
	for _, name := range names {
		mu.names[name] = true
		if err := iu.Create(name, nil); err != nil {
			return fmt.Errorf("add user %s: create %s: %w", u.Address, name, err)
		}
		if err := iu.Subscribe(name); err != nil {
			return fmt.Errorf("add user %s: subscribe %s: %w", u.Address, name, err)
		}
	}
	m.mem.AddUser(iu)
	m.users[u.Address] = mu
	m.order = append(m.order, u.Address)
	return nil
}

// SetRcptFault makes the SMTP server answer "RCPT TO:<address>" with code (for example 550
// or 451) and a message saying the fault was injected, until SetRcptFault is called again
// for the same address with code 0. The address is matched as given, "+detail" included,
// ignoring case; it need not belong to a user. A code outside 400–599 is an error.
func (m *Memory) SetRcptFault(address string, code int) error {
	key := strings.ToLower(address)
	m.mu.Lock()
	defer m.mu.Unlock()
	if code == 0 {
		delete(m.faults, key)
		return nil
	}
	if code < 400 || code > 599 {
		return fmt.Errorf("set rcpt fault for %s: code %d is not a 4xx or 5xx reply", address, code)
	}
	m.faults[key] = &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0},
		Message:      "mailworld: injected fault for <" + address + ">",
	}
	return nil
}

// Close stops both servers and closes their connections. It is idempotent.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		// The servers only learn about a listener once Serve runs, so close the listeners
		// here too: that also ends a Serve that has not registered yet.
		errIMAP := m.imapSrv.Close()
		errSMTP := m.smtpSrv.Close()
		m.imapLn.Close()
		m.smtpLn.Close()
		m.serving.Wait()
		if errIMAP != nil && !errors.Is(errIMAP, net.ErrClosed) {
			m.closeErr = fmt.Errorf("close memory mail world: imap: %w", errIMAP)
		} else if errSMTP != nil && !errors.Is(errSMTP, net.ErrClosed) {
			m.closeErr = fmt.Errorf("close memory mail world: smtp: %w", errSMTP)
		}
	})
	return m.closeErr
}

// recipient resolves a RCPT TO address to a user, or returns the SMTP error to reply with.
func (m *Memory) recipient(rcpt string) (*memUser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fault := m.faults[strings.ToLower(rcpt)]; fault != nil {
		return nil, fault
	}
	if u := m.users[baseAddress(rcpt)]; u != nil {
		return u, nil
	}
	return nil, &smtp.SMTPError{
		Code:         550,
		EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message:      "<" + rcpt + ">: Recipient address rejected: User unknown",
	}
}

func (m *Memory) login(username, password string) error {
	m.mu.Lock()
	u := m.users[username]
	m.mu.Unlock()
	if u == nil || u.imap.Login(username, password) != nil {
		return smtp.ErrAuthFailed
	}
	return nil
}

type smtpBackend struct{ m *Memory }

func (b smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{m: b.m, conn: c}, nil
}

// smtpSession is one SMTP connection. go-smtp calls its methods from the connection's
// goroutine only, so its fields need no lock.
type smtpSession struct {
	m    *Memory
	conn *smtp.Conn
	from string
	rcpt []delivery
}

type delivery struct {
	to   string // as given in RCPT TO
	user *memUser
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		return s.m.login(username, password)
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	s.rcpt = nil
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	u, err := s.m.recipient(to)
	if err != nil {
		return err
	}
	s.rcpt = append(s.rcpt, delivery{to: to, user: u})
	return nil
}

// Data appends the message to every recipient's INBOX before returning, so the client's 250
// means the message can be fetched.
func (s *smtpSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	arrived := time.Now()
	id := queueID()
	for _, d := range s.rcpt {
		var msg bytes.Buffer
		fmt.Fprintf(&msg, "Return-Path: <%s>\r\n", s.from)
		fmt.Fprintf(&msg, "Delivered-To: %s\r\n", d.to)
		fmt.Fprintf(&msg, "Received: from %s (localhost [%s])\r\n", s.conn.Hostname(), remoteIP(s.conn))
		fmt.Fprintf(&msg, "\tby %s (mailworld) with ESMTP id %s\r\n", Hostname, id)
		fmt.Fprintf(&msg, "\tfor <%s>; %s\r\n", d.to, arrived.Format(time.RFC1123Z))
		msg.Write(body)
		data := msg.Bytes()
		_, err := d.user.imap.Append("INBOX", literal{bytes.NewReader(data), int64(len(data))}, &imap.AppendOptions{Time: arrived})
		if err != nil {
			return &smtp.SMTPError{
				Code:         451,
				EnhancedCode: smtp.EnhancedCode{4, 3, 0},
				Message:      fmt.Sprintf("deliver to <%s>: %v", d.to, err),
			}
		}
	}
	return nil
}

func (s *smtpSession) Reset() {
	s.from = ""
	s.rcpt = nil
}

func (s *smtpSession) Logout() error { return nil }

// literal adapts a byte slice to imap.LiteralReader for imapmemserver's Append.
type literal struct {
	*bytes.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

func remoteIP(c *smtp.Conn) string {
	if addr, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		return addr.IP.String()
	}
	return "127.0.0.1"
}

// queueID returns a random identifier like the queue IDs real MTAs write into Received lines.
func queueID() string {
	var b [5]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
