package probe_test

import (
	"strings"
	"testing"

	"supportprobe/probe"
)

// TestClassifyMachineProgramsGuards checks the limits of the mechanisms of
// classify_machines.go: a list manager's notice needs the manager's own sender, a list and
// a statement of holding or refusing, and is never a reply; a success DSN is an
// autoresponder's only when it replies from an address no mail system uses and its text
// reads as an acknowledgement or an absence; a help desk's change notice needs the desk's
// headers, a change subject and a text with no person in it.
func TestClassifyMachineProgramsGuards(t *testing.T) {
	delivered := &probe.DeliveryReport{ReportType: "delivery-status", Action: "delivered", Actions: []string{"delivered"}, Status: "2.0.0"}
	cases := []struct {
		name string
		m    probe.Mail
		want probe.Kind
	}{
		{"list refusal from the list's owner address", probe.Mail{From: "users+owner@lists.vendor.example", Subject: "Post to users@lists.vendor.example denied: Streams",
			NewText: "Hi, this is the Mlmmj program managing the <users@lists.vendor.example> mailing list.\n\nThe message from <lin@example.com> was unable to be delivered to the list because you are not a list subscriber."},
			probe.KindBounce},
		{"list hold from the list's bounce address", probe.Mail{From: "support-bounces@lists.vendor.example", Subject: "Your message to Support awaits moderator approval",
			NewText: "Your mail to the Support mailing list is being held until the list moderator can review it for approval."},
			probe.KindOther},
		{"a person's answer relayed by a list, its Return-Path the list's", probe.Mail{From: "marco@vendor.example", Subject: "Re: Streams failing",
			Header: hdr("Return-Path", "<support-bounces+lin=example.com@lists.vendor.example>", "List-Id", "<support.lists.vendor.example>"), InReplyTo: []string{"inquiry-1@example.com"},
			NewText: "Hi Lin,\n\nrequests from your region were denied after a bad update of the list of allowed regions. I rolled it back at 09:40; can you confirm that streams start again?\n\nMarco"},
			probe.KindHuman},
		{"a person answering from a help desk's -help address, of a list that denied", probe.Mail{From: "it-help@vendor.example", Subject: "Access to the build farm",
			NewText: "Access was denied because your key is not on the list of allowed keys yet. Add it in the portal and try again in ten minutes."},
			""},
		{"a list owner's reply is weighed, not taken for a notice", probe.Mail{From: "support-owner@lists.vendor.example", Subject: "Re: Post to support denied",
			NewText: "Hi Lin, the post was denied because you are not a list member; I have added you to the list now, please send it again. Anna"},
			""},
		{"a mail system's delivery report with a reply's subject stays a report", probe.Mail{From: "postmaster@vendor.example", Subject: "Re: Streams failing",
			Header: hdr("Auto-Submitted", "auto-replied"), Report: delivered,
			NewText: "Your message has been received and delivered to the following recipients: support@vendor.example"},
			probe.KindOther},
		{"a success DSN from a person's address that is no acknowledgement stays a report", probe.Mail{From: "anna@vendor.example", Subject: "Re: Streams failing",
			Header: hdr("Auto-Submitted", "auto-replied"), Report: delivered,
			NewText: "Delivered to anna@vendor.example."},
			probe.KindOther},
		{"an autoresponder's acknowledgement in a DSN", probe.Mail{From: "help@vendor.example", Subject: "Re: Streams failing",
			Header: hdr("Auto-Submitted", "auto-replied"), Report: delivered,
			NewText: "Thank you for contacting Vendor support. We have received your message and will answer within one business day."},
			probe.KindAutoAck},
		{"a help desk's status notice", probe.Mail{From: "support@rt-vendor.test", Subject: "[rt.test #12] Status Changed to: stalled",
			Header:  hdr("X-RT-Ticket", "rt.test #12", "Precedence", "bulk"),
			NewText: "http://rt.vendor.example/Ticket/Display.html?id=12\n\nThis transaction appears to have no content"},
			probe.KindOther},
		{"a short answer under an assignment subject, in the first person", probe.Mail{From: "support@rt-vendor.test", Subject: "[rt.test #12] Ticket assigned",
			Header:  hdr("X-RT-Ticket", "rt.test #12", "Precedence", "bulk"),
			NewText: "I have it now; restart the encoder and it works."},
			""},
		{"a change subject without a help desk's headers is weighed", probe.Mail{From: "anna@vendor.example", Subject: "Status changed to offline",
			NewText: "Node 3 went offline at 02:55; it is back since 10:12."},
			""},
	}
	for _, c := range cases {
		got := probe.Classify(c.m, nil)
		if c.want == "" {
			// Left to the weighing: a reason that is none of these mechanisms'.
			if strings.Contains(got.Reason, "mailing list refused") || strings.Contains(got.Reason, "holds the post") || strings.Contains(got.Reason, "status or owner changed") {
				t.Errorf("%s: decided as a list notice: %s", c.name, got.Reason)
			}
			continue
		}
		if got.Kind != c.want {
			t.Errorf("%s: got %s, want %s: %s", c.name, got.Kind, c.want, got.Reason)
		}
	}
}
