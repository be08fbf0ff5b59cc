package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/dkim"

	"supportprobe/probe"
)

// DefaultDKIMTimeout bounds all the DNS lookups of one message's DKIM check.
const DefaultDKIMTimeout = 5 * time.Second

// DKIMOptions tunes CheckDKIM.
type DKIMOptions struct {
	// Resolver looks up the keys; nil uses net.DefaultResolver.
	Resolver *net.Resolver
	// LookupTXT, when set, replaces Resolver.LookupTXT (tests serve keys from a map).
	// Its errors are judged as the resolver's: a *net.DNSError with IsNotFound is
	// permanent (no key), any other error temporary.
	LookupTXT func(ctx context.Context, name string) ([]string, error)
	// Timeout bounds the whole check's lookups; default DefaultDKIMTimeout. A lookup
	// cut short gives temperror, to be retried.
	Timeout time.Duration
	// Now is the clock for Auth.CheckedAt; default time.Now.
	Now func() time.Time
}

// NewResolver returns a resolver that sends every DNS query to addr ("127.0.0.1:5353"),
// for tests that serve DKIM keys from a DNS server of their own.
func NewResolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// CheckDKIM verifies the DKIM signatures of raw (a message as fetched) and judges each
// signing domain against vendorDomains. It also keeps the topmost
// Authentication-Results header. It never fails: a message whose header cannot be read
// gets one permerror signature saying so. It blocks for at most opts.Timeout (plus the
// hashing); ctx cancels the lookups too.
func CheckDKIM(ctx context.Context, raw []byte, vendorDomains []string, opts DKIMOptions) probe.Auth {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultDKIMTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.LookupTXT == nil {
		opts.LookupTXT = opts.Resolver.LookupTXT
	}
	a := probe.Auth{CheckedAt: opts.Now().UTC(), Signatures: []probe.Signature{}, VendorDomains: vendorDomains, Attempts: 1}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		a.Signatures = append(a.Signatures, probe.Signature{Result: probe.DKIMPermError, Reason: "header unreadable: " + err.Error()})
		return a
	}
	if ar := h.Get("Authentication-Results"); ar != "" { // Get gives the topmost
		a.AuthenticationResults = strings.Join(strings.Fields(ar), " ")
	}
	// The verifier returns one result per DKIM-Signature, in header order; the selector
	// it does not report is read from the same header.
	var tags []map[string]string
	for f := h.FieldsByKey("DKIM-Signature"); f.Next(); {
		tags = append(tags, tagList(f.Value()))
	}
	if len(tags) == 0 {
		return a
	}
	lctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	lookup := func(domain string) ([]string, error) {
		txt, err := opts.LookupTXT(lctx, domain)
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, err // permanent: no key published
		}
		if err != nil {
			// A timeout, a refused or failed server: worth trying again later. The
			// verifier treats an error of type *net.DNSError with IsTemporary as
			// temporary; make sure it is seen so.
			return nil, &net.DNSError{Err: err.Error(), Name: domain, IsTemporary: true, IsTimeout: lctx.Err() != nil}
		}
		return txt, nil
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup, MaxVerifications: 10})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		a.Signatures = append(a.Signatures, probe.Signature{Result: probe.DKIMPermError, Reason: err.Error()})
		return a
	}
	for i, v := range verifs {
		s := probe.Signature{Domain: v.Domain, Result: probe.DKIMPass}
		if i < len(tags) {
			s.Selector = tags[i]["s"]
			if s.Domain == "" {
				s.Domain = tags[i]["d"]
			}
		}
		reason := ""
		if v.Err != nil {
			reason = strings.TrimPrefix(v.Err.Error(), "dkim: ")
		}
		switch {
		case v.Err == nil:
		case dkim.IsTempFail(v.Err):
			s.Result, s.Reason = probe.DKIMTempError, reason
		case dkim.IsPermFail(v.Err):
			s.Result, s.Reason = probe.DKIMPermError, reason
		default:
			s.Result, s.Reason = probe.DKIMFail, reason
		}
		s.Aligned = probe.Aligned(s.Domain, vendorDomains)
		a.Signatures = append(a.Signatures, s)
	}
	return a
}

// tagList parses a DKIM tag list ("v=1; d=acme.example; s=k1; …") into its tags.
func tagList(v string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.Join(strings.Fields(val), "")
	}
	return out
}
