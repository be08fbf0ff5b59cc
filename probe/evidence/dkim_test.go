package evidence

import (
	"encoding/json"
	"strings"
	"testing"

	"supportprobe/probe"
)

// The manifest carries each reply's DKIM check (and so does the signed summary), and
// the archive still verifies against the instance's key.
func TestManifestCarriesDKIM(t *testing.T) {
	its := items()
	auth := &probe.Auth{CheckedAt: sent, Attempts: 1, VendorDomains: []string{"acme.example"},
		AuthenticationResults: "mx.example.com; dkim=pass header.d=acme.example",
		Signatures:            []probe.Signature{{Domain: "acme.example", Selector: "k2026", Result: probe.DKIMPass, Aligned: true}}}
	its[0].Record.Replies[0].Auth, its[0].Record.Replies[0].DKIM = auth, auth.Summary()
	its[0].Record.Replies[1].DKIM = (*probe.Auth)(nil).Summary()
	b, _ := write(t, its)
	rep := verify(t, b)
	if !rep.Signed || !rep.Trusted || len(rep.Problems) > 0 {
		t.Fatalf("Verify = signed %v, trusted %v, problems %v; want a clean signed archive", rep.Signed, rep.Trusted, rep.Problems)
	}
	got := entries(t, b)
	var m struct {
		Probes []struct {
			Replies []struct {
				DKIM string      `json:"dkim"`
				Auth *probe.Auth `json:"auth"`
			} `json:"replies"`
		} `json:"probes"`
	}
	if err := json.Unmarshal(got[ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	r1, r2 := m.Probes[0].Replies[0], m.Probes[0].Replies[1]
	if r1.DKIM != "DKIM pass, d=acme.example" || r1.Auth == nil || len(r1.Auth.Signatures) != 1 ||
		r1.Auth.Signatures[0] != auth.Signatures[0] || r1.Auth.AuthenticationResults != auth.AuthenticationResults {
		t.Errorf("manifest reply R1 = %+v, want the DKIM check %+v", r1, auth)
	}
	if r2.DKIM != "DKIM not checked" || r2.Auth != nil {
		t.Errorf("manifest reply R2 = %+v, want not checked, auth null", r2)
	}
	for _, want := range []string{"Authenticity: DKIM pass, d=acme.example", "Authentication-Results: mx.example.com; dkim=pass", "Authenticity: DKIM not checked"} {
		if !strings.Contains(string(got[SummaryName]), want) {
			t.Errorf("summary.txt lacks %q", want)
		}
	}
}
