package report

import (
	"encoding/csv"
	"encoding/json"
	"io"

	"supportprobe/probe/view"
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
			p.ID, p.Vendor, p.Script, string(p.Priority), p.Language, view.TimeCell(p.SentAt),
			string(p.Status), view.BoolCell(p.AfterHours), view.NumCell(p.AckLatencySeconds),
			view.NumCell(p.ResponseLatencySeconds), view.NumCell(p.BusinessLatencySeconds), string(p.SLA),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
