package mailbox

import (
	"crypto/tls"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TLSConfig trusts a private CA besides the system's, checks the name given, and names a
// ca_file it cannot use.
func TestTLSConfigCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)

	dial := func(c *tls.Config) error {
		conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), c)
		if err == nil {
			conn.Close()
		}
		return err
	}
	plain, _ := TLSConfig("", "example.com")
	if plain.ServerName != "example.com" || plain.RootCAs != nil || plain.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLSConfig without ca_file = %+v", plain)
	}
	if err := dial(plain); err == nil {
		t.Error("the test server's certificate was trusted without its CA")
	}
	withCA, err := TLSConfig(ca, "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(withCA); err != nil {
		t.Errorf("with ca_file: %v", err)
	}
	other, _ := TLSConfig(ca, "mail.acme.example")
	if err := dial(other); err == nil {
		t.Error("a server_name the certificate does not carry was accepted")
	} else if msg := describeTLSError(err, "mail.acme.example").Error(); !strings.Contains(msg, "set server_name") {
		t.Errorf("hostname error reads %q, want it to name server_name", msg)
	}
	if _, err := TLSConfig(bad, ""); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("non-PEM ca_file: %v", err)
	}
	if _, err := TLSConfig(filepath.Join(dir, "missing.pem"), ""); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing ca_file: %v", err)
	}
}
