package probe

import "testing"

func TestAligned(t *testing.T) {
	vendor := []string{"acme.example", "Lotus.Example."}
	tests := []struct {
		domain string
		want   bool
	}{
		{"acme.example", true},
		{"ACME.example.", true},
		{"mail.acme.example", true}, // a subdomain signs for the vendor
		{"lotus.example", true},     // case and trailing dot ignored on both sides
		{"notacme.example", false},  // a suffix that is not a label boundary
		{"helpdesk.example", false}, // a third party
		{"example", false},          // a bare TLD aligns with nothing
		{"", false},
	}
	for _, tt := range tests {
		if got := Aligned(tt.domain, vendor); got != tt.want {
			t.Errorf("Aligned(%q, %v) = %v, want %v", tt.domain, vendor, got, tt.want)
		}
	}
	// A vendor whose domain is a subdomain aligns with a signature by its parent.
	if !Aligned("acme.example", []string{"support.acme.example"}) {
		t.Errorf("Aligned(acme.example, [support.acme.example]) = false, want true")
	}
}

func TestAuthSummaryNil(t *testing.T) {
	var a *Auth
	if a.Summary() != "DKIM not checked" || a.Result() != "" || a.NeedsRetry() || a.VendorSigned() {
		t.Errorf("nil Auth: Summary() = %q, Result() = %q, NeedsRetry() = %v, VendorSigned() = %v", a.Summary(), a.Result(), a.NeedsRetry(), a.VendorSigned())
	}
}
