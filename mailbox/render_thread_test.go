package mailbox

import (
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

// TestRenderThreadingHeaders: a follow-up carries In-Reply-To and References, each on
// one line however long, and a bracket in a reference is refused.
func TestRenderThreadingHeaders(t *testing.T) {
	refs := []string{
		"20260101T000000.abcdefgh.abcdef.0123456789abcdef@example.com",
		"ack-123456789012345678901234567890@helpdesk.acme.example",
		"agent-123456789012345678901234567890@helpdesk.acme.example",
	}
	in := probe.Inquiry{From: "lin@example.com", To: []string{"support@acme.example"}, Subject: "Re: hi", Body: "x",
		MessageID: "20260101T000100-f1.abcdefgh.abcdef.0123456789abcdef@example.com", InReplyTo: refs[2],
		References: refs, Date: time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)}
	raw, err := Render(in)
	if err != nil {
		t.Fatalf("Render() = %v", err)
	}
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	for _, want := range []string{
		"\r\nIn-Reply-To: <" + refs[2] + ">\r\n",
		"\r\nReferences: <" + strings.Join(refs, "> <") + ">\r\n",
	} {
		if !strings.Contains("\r\n"+head+"\r\n", want) {
			t.Errorf("Render() header:\n%s\nlacks %q", head, want)
		}
	}
	in.References = []string{"<bad@x>"}
	if _, err := Render(in); err == nil {
		t.Error("Render() with a bracketed reference = nil error")
	}
}
