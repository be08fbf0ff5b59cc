package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"supportprobe/configs"
)

// The credentials the tests configure, and wrong ones they try; none may reach a log.
const (
	goodToken    = "tok-0123456789abcdef-good"
	otherToken   = "tok-fedcba9876543210-other"
	wrongToken   = "tok-guess-guess-guess-wrong"
	basicUser    = "prometheus"
	goodPassword = "correct horse battery staple"
	wrongPass    = "hunter2-wrong-password"
)

// writeAuthFiles writes a bearer tokens file (goodToken and otherToken, with a comment
// and a blank line) and a basic file (basicUser:bcrypt(goodPassword)) in dir.
func writeAuthFiles(t *testing.T, dir string) configs.HTTPAuth {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	a := configs.HTTPAuth{BearerTokensFile: filepath.Join(dir, "tokens"), BasicFile: filepath.Join(dir, "users")}
	if err := os.WriteFile(a.BearerTokensFile, []byte("# scrapers\n"+goodToken+"\n\n"+otherToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.BasicFile, []byte(basicUser+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}

// writeTestCert makes a self-signed ECDSA certificate for 127.0.0.1, writes it and its
// key as PEM files in dir, and returns their paths and a pool trusting it.
func writeTestCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "supportprobe test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// mustHTTPDaemon makes a daemon with only an http section, logging to log.
func mustHTTPDaemon(t *testing.T, h *configs.HTTP, log io.Writer) *Daemon {
	t.Helper()
	d, err := New(&configs.Config{StateDir: filepath.Join(t.TempDir(), "state"), HTTP: h},
		Options{Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// get sends GET url with the given Authorization header ("" for none).
func get(t *testing.T, c *http.Client, url, authz string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

func basic(user, pass string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// TestRemoteListenerRefusesWithoutAuth: allow_remote without credentials, or without TLS
// and insecure_plaintext, makes Run fail naming the keys, and nothing listens.
func TestRemoteListenerRefusesWithoutAuth(t *testing.T) {
	dir := t.TempDir()
	auth := writeAuthFiles(t, dir)
	tests := []struct {
		name string
		http configs.HTTP
		want []string
	}{
		{"no auth", configs.HTTP{Listen: "127.0.0.1:0", AllowRemote: true, InsecurePlaintext: true},
			[]string{"http.allow_remote", "http.auth.bearer_tokens_file", "http.auth.basic_file"}},
		{"auth but no TLS", configs.HTTP{Listen: "127.0.0.1:0", AllowRemote: true, Auth: auth},
			[]string{"http.allow_remote", "http.cert_file", "http.key_file", "http.insecure_plaintext"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustHTTPDaemon(t, &tt.http, io.Discard)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := d.Run(ctx)
			if err == nil {
				t.Fatal("Run() = nil, want a refusal")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run() = %q, want it to name %s", err, w)
				}
			}
			if a := d.HTTPAddr(); a != "" {
				t.Errorf("HTTPAddr() = %q after the refusal, want nothing bound", a)
			}
		})
	}
	// The same file never gets that far: validation names the keys.
	_, err := configs.Parse([]byte(`mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: 127.0.0.1, port: 2525, security: none}
  imap: {host: 127.0.0.1, port: 1143, security: none}
scripts:
  - {id: s, language: en, priority: P1, subject: "x", body: "y {{.Token}}"}
vendors:
  - {name: acme, to: [support@acme.example], timezone: UTC}
http: {listen: "127.0.0.1:0", allow_remote: true}
`), "test.yaml")
	if err == nil || !strings.Contains(err.Error(), "allow_remote: true needs authentication") {
		t.Errorf("Parse() = %v, want the allow_remote-without-auth error", err)
	}
}

// TestRemoteListenerAuthOverTLS runs the listener as a remote one would be, over TLS with
// a certificate made here, and checks each way in and out, and the logs.
func TestRemoteListenerAuthOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeTestCert(t, dir)
	var logs syncBuffer
	d := mustHTTPDaemon(t, &configs.HTTP{Listen: "127.0.0.1:0", AllowRemote: true, Auth: writeAuthFiles(t, dir),
		CertFile: certFile, KeyFile: keyFile}, &logs)
	mustRunDaemon(t, d)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + d.HTTPAddr()

	tests := []struct {
		name, path, authz string
		want              int
	}{
		{"healthz stays open", "/healthz", "", http.StatusOK},
		{"metrics without credentials", "/metrics", "", http.StatusUnauthorized},
		{"bearer", "/metrics", "Bearer " + goodToken, http.StatusOK},
		{"second bearer token", "/metrics", "bearer " + otherToken, http.StatusOK},
		{"wrong bearer", "/metrics", "Bearer " + wrongToken, http.StatusUnauthorized},
		{"token prefix", "/metrics", "Bearer " + goodToken[:len(goodToken)-1], http.StatusUnauthorized},
		{"basic", "/metrics", basic(basicUser, goodPassword), http.StatusOK},
		{"basic wrong password", "/metrics", basic(basicUser, wrongPass), http.StatusUnauthorized},
		{"basic unknown user", "/metrics", basic("mallory", goodPassword), http.StatusUnauthorized},
		{"password as bearer", "/metrics", "Bearer " + goodPassword, http.StatusUnauthorized},
		{"other scheme", "/metrics", "Digest username=x", http.StatusUnauthorized},
		{"any other page needs auth", "/dashboard", "", http.StatusUnauthorized},
		{"any other page, authenticated", "/dashboard", "Bearer " + goodToken, http.StatusNotFound},
		{"healthz lookalike", "/healthz/", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, c, base+tt.path, tt.authz)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, resp.StatusCode, body, tt.want)
			}
			if resp.StatusCode == http.StatusUnauthorized {
				got := resp.Header.Values("WWW-Authenticate")
				want := []string{`Basic realm="supportprobe", charset="UTF-8"`, `Bearer realm="supportprobe"`}
				if !slices.Equal(got, want) {
					t.Errorf("WWW-Authenticate = %q, want %q", got, want)
				}
			}
			if tt.path == "/metrics" && resp.StatusCode == http.StatusOK && !strings.Contains(string(body), "supportprobe_up 1") {
				t.Errorf("authenticated /metrics body lacks supportprobe_up 1:\n%s", body)
			}
		})
	}

	// Plain HTTP to the TLS port gets no metrics.
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://" + d.HTTPAddr() + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "supportprobe_up") {
			t.Errorf("plain http to the TLS listener = %d %s, want a refusal", resp.StatusCode, body)
		}
	}

	log := string(logs.Bytes())
	for _, secret := range []string{goodToken, otherToken, wrongToken, goodPassword, wrongPass} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds the secret %q:\n%s", secret, log)
		}
	}
	// 6 failed logins with credentials; the request without any is not one.
	if n := strings.Count(log, "http: failed login"); n != 6 {
		t.Errorf("the log has %d failed logins, want 6:\n%s", n, log)
	}
	for _, want := range []string{"scheme=bearer", "scheme=basic path=/metrics user=prometheus", "user=mallory", "scheme=other", "ip=127.0.0.1", "tls=true auth=bearer,basic"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}

// TestLoopbackListener: without auth a loopback listener is open as before; with auth
// configured, it applies on loopback too, over plain HTTP.
func TestLoopbackListener(t *testing.T) {
	c := &http.Client{Timeout: 10 * time.Second}
	open := mustHTTPDaemon(t, &configs.HTTP{Listen: "127.0.0.1:0"}, io.Discard)
	mustRunDaemon(t, open)
	if resp := get(t, c, "http://"+open.HTTPAddr()+"/metrics", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("loopback without auth: GET /metrics = %d, want 200", resp.StatusCode)
	}

	auth := writeAuthFiles(t, t.TempDir())
	auth.BearerTokensFile = ""
	guarded := mustHTTPDaemon(t, &configs.HTTP{Listen: "127.0.0.1:0", Auth: auth}, io.Discard)
	mustRunDaemon(t, guarded)
	base := "http://" + guarded.HTTPAddr()
	resp := get(t, c, base+"/metrics", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("loopback with auth: GET /metrics = %d, want 401", resp.StatusCode)
	}
	if got, want := resp.Header.Values("WWW-Authenticate"), []string{`Basic realm="supportprobe", charset="UTF-8"`}; !slices.Equal(got, want) {
		t.Errorf("WWW-Authenticate = %q, want %q (basic only)", got, want)
	}
	if resp := get(t, c, base+"/metrics", "Bearer "+goodToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bearer with no tokens file: GET /metrics = %d, want 401", resp.StatusCode)
	}
	if resp := get(t, c, base+"/metrics", basic(basicUser, goodPassword)); resp.StatusCode != http.StatusOK {
		t.Errorf("loopback with auth, basic: GET /metrics = %d, want 200", resp.StatusCode)
	}
}

// TestLoginRateLimit: after loginFailureBurst failed logins from one IP, every request
// from it gets 429 with Retry-After, the right token included, until the bucket refills
// (one failure per 6 s); another IP is unaffected, and a request without credentials
// counts for nothing.
func TestLoginRateLimit(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var logs syncBuffer
	h, err := loadHTTPAuth(writeAuthFiles(t, t.TempDir()), slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	srv := h.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	do := func(ip, path, authz string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = ip + ":40000"
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	const attacker, scraper = "192.0.2.7", "192.0.2.8"
	for i := range 20 {
		if rec := do(attacker, "/metrics", ""); rec.Code != http.StatusUnauthorized {
			t.Fatalf("request %d without credentials = %d, want 401 and no count", i, rec.Code)
		}
	}
	for i := range loginFailureBurst {
		pass := wrongPass
		if i%2 == 1 {
			pass = ""
		}
		if rec := do(attacker, "/metrics", basic(basicUser, pass)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failed login %d = %d, want 401", i+1, rec.Code)
		}
	}
	rec := do(attacker, "/metrics", "Bearer "+goodToken)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right token after %d failures = %d, want 429", loginFailureBurst, rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "6" {
		t.Errorf("Retry-After = %q, want 6 (one failure refills every 6 s)", got)
	}
	if rec := do(attacker, "/healthz", ""); rec.Code != http.StatusOK {
		t.Errorf("/healthz while limited = %d, want 200", rec.Code)
	}
	if rec := do(scraper, "/metrics", "Bearer "+goodToken); rec.Code != http.StatusOK {
		t.Errorf("another IP's right token = %d, want 200", rec.Code)
	}
	now = now.Add(6 * time.Second)
	if rec := do(attacker, "/metrics", "Bearer "+goodToken); rec.Code != http.StatusOK {
		t.Errorf("right token 6 s later = %d, want 200", rec.Code)
	}
	if rec := do(attacker, "/metrics", "Bearer "+wrongToken); rec.Code != http.StatusUnauthorized {
		t.Errorf("one more wrong token = %d, want 401", rec.Code)
	}
	if rec := do(attacker, "/metrics", "Bearer "+wrongToken); rec.Code != http.StatusTooManyRequests {
		t.Errorf("and the next = %d, want 429 again", rec.Code)
	}
	log := string(logs.Bytes())
	if n := strings.Count(log, "too many failed logins"); n != 2 {
		t.Errorf("the log says %d times that the IP is limited, want 2:\n%s", n, log)
	}
	for _, secret := range []string{goodToken, wrongToken, wrongPass} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds the secret %q", secret)
		}
	}
}

// TestBadCredentialsFiles: a credentials file that cannot be used stops the start,
// naming the key, the file and the line, never quoting the secret.
func TestBadCredentialsFiles(t *testing.T) {
	const short = "tooshort"
	tests := []struct {
		name, file, content string
		want                []string
	}{
		{"missing tokens file", "tokens", "", []string{"http.auth.bearer_tokens_file", "no such file", "create it"}},
		{"short token", "tokens", "# ok\n" + goodToken + "\n" + short + "\n", []string{"http.auth.bearer_tokens_file", "line 3", "8 characters"}},
		{"two tokens on a line", "tokens", goodToken + " " + otherToken + "\n", []string{"line 1", "one token per line"}},
		{"no tokens", "tokens", "# none yet\n\n", []string{"holds no token"}},
		{"plain password", "users", "prometheus:" + goodPassword + "\n", []string{"http.auth.basic_file", "line 1", `user "prometheus"`, "not bcrypt", "htpasswd -B"}},
		{"no colon", "users", "prometheus\n", []string{"line 1 is not user:bcrypt-hash"}},
		{"no users", "users", "\n", []string{"holds no user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var a configs.HTTPAuth
			if tt.file == "tokens" {
				a.BearerTokensFile = path
			} else {
				a.BasicFile = path
			}
			d := mustHTTPDaemon(t, &configs.HTTP{Listen: "127.0.0.1:0", Auth: a}, io.Discard)
			err := d.startMonitor()
			if err == nil {
				d.stopMonitor(context.Background())
				t.Fatal("startMonitor() = nil, want an error")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("startMonitor() = %q, want it to say %q", err, w)
				}
			}
			for _, secret := range []string{goodToken, otherToken, goodPassword, short} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("startMonitor() = %q quotes the secret %q", err, secret)
				}
			}
		})
	}
}

// BenchmarkHTTPAuth measures what authentication adds to a request: a bearer token, a
// basic login remembered from an earlier one, and a basic login bcrypt must check (at
// bcrypt.DefaultCost, what htpasswd -B -C 10 writes).
func BenchmarkHTTPAuth(b *testing.B) {
	dir := b.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	a := configs.HTTPAuth{BearerTokensFile: filepath.Join(dir, "tokens"), BasicFile: filepath.Join(dir, "users")}
	if err := os.WriteFile(a.BearerTokensFile, []byte(goodToken+"\n"+otherToken+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(a.BasicFile, []byte(basicUser+":"+string(hash)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	h, err := loadHTTPAuth(a, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	req := func(authz string) *http.Request {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Header.Set("Authorization", authz)
		return r
	}
	run := func(b *testing.B, r *http.Request, uncached bool) {
		for b.Loop() {
			if uncached {
				clear(h.verified)
			}
			if _, _, ok := h.check(r); !ok {
				b.Fatal("check() = false, want the credentials accepted")
			}
		}
	}
	b.Run("bearer", func(b *testing.B) { run(b, req("Bearer "+otherToken), false) })
	b.Run("basic-remembered", func(b *testing.B) { run(b, req(basic(basicUser, goodPassword)), false) })
	b.Run("basic-bcrypt", func(b *testing.B) { run(b, req(basic(basicUser, goodPassword)), true) })
}
