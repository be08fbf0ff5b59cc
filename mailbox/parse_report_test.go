package mailbox

import (
	"slices"
	"strings"
	"testing"
)

// reportMail builds a multipart/report of reportType with a notification text and a
// report part of partType holding fields.
func reportMail(reportType, partType, fields string) []byte {
	return []byte(strings.ReplaceAll(`From: reporter@isp.example
To: lin@probe.example
Subject: Report
Message-ID: <r1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=`+reportType+`; boundary="b1"

--b1
Content-Type: text/plain

A report about your message.

--b1
Content-Type: `+partType+`

`+fields+`
--b1
Content-Type: text/rfc822-headers

From: Lin <lin@probe.example>
Message-ID: <orig@probe.example>
Subject: Night coverage

--b1--
`, "\n", "\r\n"))
}

// TestParseMachineReports checks that every kind of multipart/report is a Report with
// its type, that a DSN lists every recipient's action and decides by the first failed
// one, that ARF and MDN fields are read, and that a bounce without a DSN that says it
// gave up fails whatever its status class.
func TestParseMachineReports(t *testing.T) {
	arf, err := Parse(reportMail("feedback-report", "message/feedback-report", "Feedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n"), ParseOptions{})
	if err != nil || arf.Report == nil || arf.Report.ReportType != "feedback-report" || arf.Report.Feedback != "abuse" ||
		arf.Report.OriginalMessageID != "orig@probe.example" {
		t.Errorf("ARF: err %v, report %+v; want feedback-report, abuse, orig@probe.example", err, arf.Report)
	}
	mdn, err := Parse(reportMail("disposition-notification", "message/disposition-notification",
		"Reporting-UA: Thunderbird\r\nOriginal-Message-ID: <mdn-orig@probe.example>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"), ParseOptions{})
	if err != nil || mdn.Report == nil || mdn.Report.ReportType != "disposition-notification" ||
		!strings.Contains(mdn.Report.Feedback, "displayed") || mdn.Report.OriginalMessageID != "mdn-orig@probe.example" {
		t.Errorf("MDN: err %v, report %+v; want disposition-notification, displayed, the Original-Message-ID", err, mdn.Report)
	}
	dsn, err := Parse(reportMail("delivery-status", "message/delivery-status",
		"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@v.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n"+
			"Final-Recipient: rfc822; b@v.example\r\nAction: failed\r\nStatus: 4.2.2\r\n"), ParseOptions{})
	if err != nil || dsn.Report == nil || !slices.Equal(dsn.Report.Actions, []string{"delayed", "failed"}) ||
		dsn.Report.Action != "failed" || dsn.Report.Status != "4.2.2" {
		t.Errorf("DSN: err %v, report %+v; want actions delayed,failed deciding failed 4.2.2", err, dsn.Report)
	}
	legacy := []byte("From: MAILER-DAEMON@mx.example\r\nSubject: failure notice\r\nMessage-ID: <q@mx.example>\r\n\r\n" +
		"Hi. This is the qmail-send program at mx.example.\r\n<support@v.example>:\r\nconnect to 192.0.2.25 timed out (#4.4.1)\r\n" +
		"I'm not going to try again; this message has been in the queue too long.\r\n")
	q, err := Parse(legacy, ParseOptions{})
	if err != nil || q.Report == nil || !q.Report.GaveUp || q.Report.Action != "failed" || q.Report.ReportType != "" {
		t.Errorf("legacy bounce: err %v, report %+v; want gave up, failed, no report type", err, q.Report)
	}
}
