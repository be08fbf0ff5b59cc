package daemon

import (
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/mailbox/oauth"
	"supportprobe/mailbox/oauth/oauthtest"
	"supportprobe/probe"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// tokenForms are the ways a token could show up: as it is, and inside the base64 SASL
// initial responses sent to the IMAP server and the SMTP server at addrs.
func tokenForms(user string, tokens []string, addrs ...string) []string {
	b64 := base64.StdEncoding.EncodeToString
	var out []string
	for _, tok := range tokens {
		out = append(out, tok, b64([]byte("user="+user+"\x01auth=Bearer "+tok+"\x01\x01")))
		for _, a := range addrs {
			host, port, _ := net.SplitHostPort(a)
			out = append(out, b64([]byte("n,a="+user+",\x01host="+host+"\x01port="+port+"\x01auth=Bearer "+tok+"\x01\x01")))
		}
	}
	return out
}

// TestTokensNeverLeak runs the daemon signed in only with OAuth tokens against real
// Dovecot and Postfix, logging at Debug level, across an access-token refresh, and looks
// for the access and refresh tokens in the log, the database, the history JSON, /metrics
// and /healthz.
func TestTokensNeverLeak(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", linUser.Address, 3*time.Second, 0)
	srv.SetRotate(true)
	w := mailworldtest.RealWith(t, mailworld.RealOptions{OAuth2IntrospectionURL: srv.IntrospectURL()}, linUser, supportUser)
	dir := t.TempDir()
	// The oauth2 block rides in after the imap mapping, closed by the template's brace.
	imapRest := "auth: oauth2, username: lin.wei@example.com, sent_folder: Sent}\n  oauth2: {provider: custom, client_id: app-1, device_url: \"" +
		srv.DeviceURL() + "\", token_url: \"" + srv.TokenURL() + "\", scopes: [mail]"
	cfg, err := configs.Parse(worldConfigText(w, filepath.Join(dir, "state"), "auth: oauth2, username: lin.wei@example.com", imapRest), "tokens.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	oc, err := OAuthConfig(cfg.Mail.OAuth2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.Login(t.Context(), oc, func(oauth.DeviceCode) {}); err != nil {
		t.Fatal(err)
	}

	var buf syncBuffer
	d, err := New(cfg, Options{Logger: debugLogger(&buf), NoSchedules: true})
	if err != nil {
		t.Fatal(err)
	}
	stop := mustRunDaemon(t, d)
	var ids []string
	for i := range 2 {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p, err := d.Send(sctx, SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
		cancel()
		if err != nil || p.State != probe.StateSent || !p.SkewMeasured {
			t.Fatalf("Send() #%d = %s (skew measured %v), %v; want sent with the sent copy filed", i, p.State, p.SkewMeasured, err)
		}
		vendorReply(t, w, p.MessageID)
		waitReplies(t, d, p.ID, 1)
		ids = append(ids, p.ID)
		time.Sleep(3 * time.Second) // let the access token expire
	}
	if srv.Refreshes() < 2 {
		t.Errorf("Refreshes() = %d, want at least 2 (one per access-token lifetime)", srv.Refreshes())
	}
	base := "http://" + d.HTTPAddr()
	_, _, metrics := httpGet(t, base+"/metrics")
	_, _, health := httpGet(t, base+"/healthz")
	ps, err := d.DB().Probes(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := view.Records(ps, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var hist syncBuffer
	if err := view.WriteJSON(&hist, recs); err != nil {
		t.Fatal(err)
	}
	stop()
	db, err := os.ReadFile(DatabasePath(cfg.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	logs := buf.Bytes()
	if len(recs) != 2 {
		t.Errorf("history holds %d probes, want %v", len(recs), ids)
	}
	forms := tokenForms(linUser.Address, append(srv.IssuedAccessTokens(), srv.IssuedRefreshTokens()...), w.IMAPAddr(), w.SMTPAddr())
	if len(forms) == 0 {
		t.Fatal("no tokens were issued: the test checks nothing")
	}
	checkNoSecrets(t, "the log", logs, forms)
	checkNoSecrets(t, "the database file", db, forms)
	checkNoSecrets(t, "the history JSON", hist.Bytes(), forms)
	checkNoSecrets(t, "/metrics and /healthz", []byte(metrics+health), forms)
}
