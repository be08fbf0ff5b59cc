package mailworld_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"

	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestUnbound: the real DNS server answers a published TXT record, NXDOMAIN for another
// name in its zone, as the DKIM check needs.
func TestUnbound(t *testing.T) {
	if err := mailworld.UnboundAvailable(); err != nil {
		if os.Getenv(mailworldtest.EnvRequireReal) == "1" {
			t.Fatalf("%s=1, but: %v", mailworldtest.EnvRequireReal, err)
		}
		t.Skip(err)
	}
	u, err := mailworld.StartUnbound(t.TempDir(), map[string][]string{"k1._domainkey.acme.example": {"v=DKIM1; k=ed25519; p=AAAA"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	r := mailbox.NewResolver(u.Addr)
	got, err := r.LookupTXT(context.Background(), "k1._domainkey.acme.example")
	if err != nil || len(got) != 1 || got[0] != "v=DKIM1; k=ed25519; p=AAAA" {
		t.Errorf("LookupTXT(k1) = %q, %v; want the published record", got, err)
	}
	_, err = r.LookupTXT(context.Background(), "old._domainkey.acme.example")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("LookupTXT(old) = %v; want not found", err)
	}
}
