package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// WriteJSON writes r as one indented JSON object. Build never puts NaN or an infinity
// into a Report (absent figures are null), so encoding succeeds for any Report it
// returns; a Report assembled by hand with NaN gets encoding/json's error.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader is the CSV column order, a contract with spreadsheets: columns are only
// ever appended.
var csvHeader = []string{
	"id", "vendor", "script", "priority", "language", "sent_at", "status", "after_hours",
	"ack_latency_seconds", "response_latency_seconds", "business_latency_seconds", "sla",
}

// WriteCSV writes one row per probe of the period (r.Probes) after a header row. Times
// are RFC 3339 UTC, latencies seconds; absent values are empty cells. It returns the
// first error from w.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, p := range r.Probes {
		if err := cw.Write([]string{
			p.ID, p.Vendor, p.Script, string(p.Priority), p.Language, timeCell(p.SentAt),
			string(p.Status), boolCell(p.AfterHours), numCell(p.AckLatencySeconds),
			numCell(p.ResponseLatencySeconds), numCell(p.BusinessLatencySeconds), string(p.SLA),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func boolCell(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func numCell(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
