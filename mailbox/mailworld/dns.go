package mailworld

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// DNS is an authoritative DNS server on 127.0.0.1 (UDP and TCP on one port) that
// answers TXT queries from a table, for tests of DKIM verification: a vendor publishes
// its key at selector._domainkey.domain. A name not in the table gets NXDOMAIN; a name
// set to fail gets SERVFAIL (a temporary failure). Create it with StartDNS; always call
// Close.
type DNS struct {
	// Addr is the server's address ("127.0.0.1:PORT"), the resolver address to hand
	// to the code under test.
	Addr string

	mu    sync.Mutex
	txt   map[string][]string
	fail  map[string]bool
	udp   *dns.Server
	tcp   *dns.Server
	asked map[string]int
}

// StartDNS starts a DNS server on a free loopback port. It returns an error when the
// port cannot be bound.
func StartDNS() (*DNS, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dns server: listen on udp 127.0.0.1: %w", err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("dns server: listen on tcp %s: %w", pc.LocalAddr(), err)
	}
	d := &DNS{Addr: pc.LocalAddr().String(), txt: map[string][]string{}, fail: map[string]bool{}, asked: map[string]int{}}
	var started sync.WaitGroup
	started.Add(2)
	d.udp = &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: started.Done}
	d.tcp = &dns.Server{Listener: ln, Handler: d, NotifyStartedFunc: started.Done}
	go d.udp.ActivateAndServe()
	go d.tcp.ActivateAndServe()
	started.Wait() // so Close never meets a server not yet started
	return d, nil
}

// SetTXT publishes records as the TXT records of name; no records removes the name, so
// it gets NXDOMAIN (a withdrawn key). It clears a failure set by Fail.
func (d *DNS) SetTXT(name string, records ...string) {
	name = dns.Fqdn(strings.ToLower(name))
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.fail, name)
	if len(records) == 0 {
		delete(d.txt, name)
		return
	}
	d.txt[name] = records
}

// Fail makes queries for name get SERVFAIL until SetTXT is called for it.
func (d *DNS) Fail(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail[dns.Fqdn(strings.ToLower(name))] = true
}

// Recover ends a failure set by Fail: name is answered from the table again.
func (d *DNS) Recover(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.fail, dns.Fqdn(strings.ToLower(name)))
}

// Asked returns how many queries for name the server has answered.
func (d *DNS) Asked(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asked[dns.Fqdn(strings.ToLower(name))]
}

// ServeDNS answers one query; it implements dns.Handler.
func (d *DNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		d.mu.Lock()
		d.asked[name]++
		recs, ok := d.txt[name]
		failing := d.fail[name]
		d.mu.Unlock()
		switch {
		case failing:
			m.Rcode = dns.RcodeServerFailure
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeTXT:
			for _, r := range recs {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: chunks(r)})
			}
		}
	}
	w.WriteMsg(m)
}

// chunks splits a TXT record into the 255-byte strings DNS carries (an RSA key is
// longer); a resolver joins them again.
func chunks(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// Close stops the server.
func (d *DNS) Close() error {
	return errors.Join(d.udp.Shutdown(), d.tcp.Shutdown())
}
