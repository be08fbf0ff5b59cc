package daemon

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"supportprobe/configs"
)

// Authentication of the monitoring listener (configs.HTTP.Auth).
//
// Every path but /healthz goes through httpAuth.wrap, so a page added to the listener's
// mux later (the dashboard) is covered without saying so. A request is let in when its
// Authorization header carries one of the bearer tokens, or a user and password whose
// bcrypt hash is in the basic file; the files are read once, when the listener starts
// (a reload does not change the http section; restart to pick up new credentials).
//
// Bearer tokens are compared as SHA-256 digests with subtle.ConstantTimeCompare, against
// every token without stopping at a match, so neither the length nor the position of a
// token shows in the timing. A basic login for an unknown user still runs bcrypt, on a
// hash of the same cost, so a user's existence does not show either. bcrypt costs tens of
// milliseconds; a verified user/password/hash triple is remembered (as a SHA-256 digest)
// so that a scrape every few seconds does not pay it each time.
//
// A request let in carries in its context who it logged in as (the basic user, or
// "bearer token sha256:…", the token's hash, never the token): the dashboard records it
// in the audit entry of a decision made on the page.
//
// Failed logins (credentials presented and wrong) are counted per client IP in a token
// bucket of loginFailureBurst that refills loginFailureBurst a minute; an empty bucket
// answers 429 with Retry-After to every request from that IP, before any credential is
// looked at, so a correct guess is not confirmed either. A request without credentials
// (a browser's first try) gets 401 and is not counted. Failures are logged with the IP,
// the scheme and, for basic, the user name; never the password or the token.

// loginFailureBurst is how many failed logins a client IP may make in a row, and how
// many a minute after that.
const loginFailureBurst = 10

// maxVerifiedCache bounds the remembered basic credentials; the cache is emptied when
// it would grow past it (only a changing password list would ever fill it).
const maxVerifiedCache = 1024

// maxLimiterIPs is the number of client IPs with failures above which buckets that have
// refilled are dropped.
const maxLimiterIPs = 4096

// minTokenLength is the shortest bearer token accepted in the tokens file.
const minTokenLength = 16

// httpRealm names the protected space in WWW-Authenticate challenges.
const httpRealm = "supportprobe"

// httpAuth checks the credentials of requests to the monitoring listener. Safe for
// concurrent use.
type httpAuth struct {
	tokens    [][sha256.Size]byte // digests of the bearer tokens
	users     map[string][]byte   // user name -> bcrypt hash
	dummyHash []byte              // compared for unknown users, at the users' cost
	log       *slog.Logger
	now       func() time.Time
	limiter   *failLimiter

	mu       sync.Mutex
	verified map[[sha256.Size]byte]bool // digests of user, password and hash bcrypt accepted
}

// loadHTTPAuth reads the credentials files a names. The error names the file and line
// and says how to fix it; it never quotes a token or a hash.
func loadHTTPAuth(a configs.HTTPAuth, log *slog.Logger, now func() time.Time) (*httpAuth, error) {
	h := &httpAuth{
		log: log, now: now,
		limiter:  newFailLimiter(loginFailureBurst, loginFailureBurst/60.0),
		verified: map[[sha256.Size]byte]bool{},
	}
	if a.BearerTokensFile != "" {
		tokens, err := readBearerTokens(a.BearerTokensFile, log)
		if err != nil {
			return nil, err
		}
		h.tokens = tokens
	}
	if a.BasicFile != "" {
		users, err := readBasicFile(a.BasicFile, log)
		if err != nil {
			return nil, err
		}
		h.users = users
		cost := bcrypt.MinCost // the users' highest, so an unknown user costs what a known one does
		for _, hash := range users {
			if c, err := bcrypt.Cost(hash); err == nil {
				cost = max(cost, c)
			}
		}
		if h.dummyHash, err = bcrypt.GenerateFromPassword([]byte("no such user"), cost); err != nil {
			return nil, fmt.Errorf("http.auth.basic_file %s: prepare the hash compared for unknown users: %w", a.BasicFile, err)
		}
	}
	return h, nil
}

// readCredentialsFile reads one of the credentials files, warning when others than its
// owner may read it, and returns its lines with their numbers, blank lines and # comments
// dropped.
func readCredentialsFile(key, path string, log *slog.Logger) ([]string, []int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		hint := "make it readable by the user supportprobe runs as, and by no one else (mode 0600)"
		if errors.Is(err, fs.ErrNotExist) {
			hint = "create it, mode 0600, owned by the user supportprobe runs as, or fix the path"
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("%s %s: %w (%s)", key, path, err, hint)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("http credentials file is readable by others than its owner; chmod 0600 it", "key", key, "file", path, "mode", fi.Mode().Perm().String())
	}
	var lines []string
	var nums []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines, nums = append(lines, line), append(nums, n)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", key, path, err)
	}
	return lines, nums, nil
}

// readBearerTokens reads the bearer tokens file: one token per line.
func readBearerTokens(path string, log *slog.Logger) ([][sha256.Size]byte, error) {
	const key = "http.auth.bearer_tokens_file"
	lines, nums, err := readCredentialsFile(key, path, log)
	if err != nil {
		return nil, err
	}
	var out [][sha256.Size]byte
	for i, tok := range lines {
		switch {
		case strings.ContainsAny(tok, " \t"):
			return nil, fmt.Errorf("%s %s: line %d holds more than one word; write one token per line", key, path, nums[i])
		case len(tok) < minTokenLength:
			return nil, fmt.Errorf("%s %s: line %d: the token has %d characters, fewer than %d; use a long random one, e.g. from `openssl rand -hex 32`", key, path, nums[i], len(tok), minTokenLength)
		}
		out = append(out, sha256.Sum256([]byte(tok)))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s %s holds no token; write one per line (e.g. from `openssl rand -hex 32`)", key, path)
	}
	return out, nil
}

// readBasicFile reads the basic file: htpasswd-style user:bcrypt-hash lines.
func readBasicFile(path string, log *slog.Logger) (map[string][]byte, error) {
	const key = "http.auth.basic_file"
	lines, nums, err := readCredentialsFile(key, path, log)
	if err != nil {
		return nil, err
	}
	users := map[string][]byte{}
	for i, line := range lines {
		user, hash, ok := strings.Cut(line, ":")
		switch {
		case !ok || user == "":
			return nil, fmt.Errorf("%s %s: line %d is not user:bcrypt-hash; create lines with `htpasswd -B -n USER`", key, path, nums[i])
		case users[user] != nil:
			return nil, fmt.Errorf("%s %s: line %d: user %q is listed twice; keep one line per user", key, path, nums[i], user)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("%s %s: line %d: user %q: the hash is not bcrypt ($2y$…): %w; create it with `htpasswd -B -n %s`", key, path, nums[i], user, err, user)
		}
		users[user] = []byte(hash)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s %s holds no user; add user:bcrypt-hash lines with `htpasswd -B -n USER`", key, path)
	}
	return users, nil
}

// wrap returns next guarded by h: /healthz passes, everything else needs credentials.
func (h *httpAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		ip := clientIP(r)
		now := h.now()
		if wait, limited := h.limiter.limited(ip, now); limited {
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			http.Error(w, fmt.Sprintf("too many failed logins from %s; retry in %d s", ip, secs), http.StatusTooManyRequests)
			return
		}
		scheme, user, ok := h.check(r)
		if ok {
			if scheme == "bearer" {
				_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
				user = bearerName(sha256.Sum256([]byte(strings.TrimSpace(tok))))
			}
			next.ServeHTTP(w, withAuthUser(r, user)) // the dashboard's audit entries name who
			return
		}
		if scheme != "" {
			nowLimited := h.limiter.fail(ip, now)
			args := []any{"ip", ip, "scheme", scheme, "path", r.URL.Path}
			if scheme == "basic" {
				args = append(args, "user", user)
			}
			h.log.Warn("http: failed login", args...)
			if nowLimited {
				h.log.Warn("http: too many failed logins; refusing this client for now", "ip", ip, "failures_per_minute", loginFailureBurst)
			}
		}
		h.challenge(w)
		http.Error(w, "authentication required: see http.auth in the supportprobe configuration", http.StatusUnauthorized)
	})
}

// challenge sets a WWW-Authenticate header for each configured scheme.
func (h *httpAuth) challenge(w http.ResponseWriter) {
	if h.users != nil {
		w.Header().Add("WWW-Authenticate", `Basic realm="`+httpRealm+`", charset="UTF-8"`)
	}
	if h.tokens != nil {
		w.Header().Add("WWW-Authenticate", `Bearer realm="`+httpRealm+`"`)
	}
}

// check reports whether r carries valid credentials, with the scheme it presented
// ("" for none; "bearer", "basic" or "other") and, for basic, the user name.
func (h *httpAuth) check(r *http.Request) (scheme, user string, ok bool) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return "", "", false
	}
	name, cred, _ := strings.Cut(authz, " ")
	switch {
	case strings.EqualFold(name, "Bearer"):
		return "bearer", "", h.tokenOK(strings.TrimSpace(cred))
	case strings.EqualFold(name, "Basic"):
		user, pass, parsed := r.BasicAuth()
		if !parsed {
			return "basic", "", false
		}
		return "basic", user, h.basicOK(user, pass)
	}
	return "other", "", false
}

// tokenOK compares tok with every configured token in constant time.
func (h *httpAuth) tokenOK(tok string) bool {
	if len(h.tokens) == 0 || tok == "" {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	match := 0
	for _, t := range h.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], t[:])
	}
	return match == 1
}

// basicOK checks user and pass against the basic file.
func (h *httpAuth) basicOK(user, pass string) bool {
	if h.users == nil {
		return false
	}
	hash, known := h.users[user]
	if !known {
		_ = bcrypt.CompareHashAndPassword(h.dummyHash, []byte(pass)) // the same time as a known user
		return false
	}
	d := sha256.New()
	for _, s := range []string{user, pass, string(hash)} {
		fmt.Fprintf(d, "%d:%s", len(s), s)
	}
	var key [sha256.Size]byte
	d.Sum(key[:0])
	h.mu.Lock()
	seen := h.verified[key]
	h.mu.Unlock()
	if seen {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	h.mu.Lock()
	if len(h.verified) >= maxVerifiedCache {
		clear(h.verified)
	}
	h.verified[key] = true
	h.mu.Unlock()
	return true
}

// clientIP is the IP of r's peer. Forwarding headers are ignored: the listener is meant
// to be reached directly, and a header a client writes would let it pick its own bucket.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// failLimiter counts failed logins per client IP in token buckets. Safe for concurrent
// use.
type failLimiter struct {
	burst, perSecond float64

	mu      sync.Mutex
	buckets map[string]*failBucket
}

type failBucket struct {
	left float64   // failures still allowed
	at   time.Time // when left was computed
}

func newFailLimiter(burst int, perSecond float64) *failLimiter {
	return &failLimiter{burst: float64(burst), perSecond: perSecond, buckets: map[string]*failBucket{}}
}

// refill brings b up to now. l.mu must be held.
func (l *failLimiter) refill(b *failBucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.left = min(l.burst, b.left+el.Seconds()*l.perSecond)
	}
	b.at = now
}

// limited reports whether ip has used up its failures, and how long until it may try
// again.
func (l *failLimiter) limited(ip string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		return 0, false
	}
	l.refill(b, now)
	if b.left >= 1 {
		return 0, false
	}
	return time.Duration((1 - b.left) / l.perSecond * float64(time.Second)), true
}

// fail counts a failed login from ip and reports whether that used up its failures.
func (l *failLimiter) fail(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxLimiterIPs {
			for k, ob := range l.buckets {
				if l.refill(ob, now); ob.left >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		b = &failBucket{left: l.burst, at: now}
		l.buckets[ip] = b
	}
	l.refill(b, now)
	b.left--
	return b.left < 1
}

// CheckHTTP reads what the monitoring listener h would read when it starts (the
// credentials files and the TLS certificate and key) and returns one error for each that
// would stop the start, as Run would word it; nil when h is nil or all is well. It
// listens on nothing. `supportprobe check` shows them as warnings.
func CheckHTTP(h *configs.HTTP) []error {
	if h == nil {
		return nil
	}
	var errs []error
	if !h.Auth.IsZero() {
		if _, err := loadHTTPAuth(h.Auth, slog.New(slog.DiscardHandler), time.Now); err != nil {
			errs = append(errs, err)
		}
	}
	if h.TLS() {
		if _, err := loadHTTPCert(h); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// loadHTTPCert loads the listener's certificate and key.
func loadHTTPCert(h *configs.HTTP) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(h.CertFile, h.KeyFile)
	if err != nil {
		return cert, fmt.Errorf("http.cert_file %s, http.key_file %s: %w (both must be PEM files readable by supportprobe's user: the certificate chain and its private key)", h.CertFile, h.KeyFile, err)
	}
	return cert, nil
}
