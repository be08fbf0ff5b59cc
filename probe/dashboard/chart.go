package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/probe/review"
	"supportprobe/probe/view"
)

// Chart is a vendor's latency chart, drawn as inline SVG: one column per probe that
// reached the vendor, by latency (report.Vendor.Latencies), on a logarithmic axis that
// starts at the tick below the fastest answer, so fast answers are told apart instead
// of sitting on the floor. Colours are the chart states' (classes in the stylesheet)
// and every column has a text title; censored columns (no answer yet or none by the
// deadline) are drawn hollow, their value known only to exceed their height.
type Chart struct {
	Width, Height int
	PlotLeft      int
	PlotTop       int
	PlotHeight    int
	Ticks         []ChartTick
	Bars          []ChartBar
	Legend        []report.ChartState
	Fastest       string
}

// ChartTick is one labelled line of the axis.
type ChartTick struct {
	Y     float64
	Label string
}

// ChartBar is one column.
type ChartBar struct {
	X, Y, W, H float64
	State      report.ChartState
	Censored   bool
	Title      string
	Href       string
}

var axisTicks = []struct {
	secs  float64
	label string
}{
	{1, "1s"}, {10, "10s"}, {60, "1m"}, {600, "10m"}, {3600, "1h"}, {6 * 3600, "6h"}, {86400, "1d"},
	{3 * 86400, "3d"}, {7 * 86400, "7d"}, {30 * 86400, "30d"}, {365 * 86400, "1y"},
}

func chart(bars []report.Bar) Chart {
	c := Chart{Width: 760, Height: 260, PlotLeft: 48, PlotTop: 10, PlotHeight: 220, Legend: report.ChartStates}
	if len(bars) == 0 {
		return c
	}
	fastest, longest := math.Inf(1), 0.0
	for _, b := range bars {
		longest = max(longest, b.Seconds)
		if !b.Censored {
			fastest = min(fastest, b.Seconds)
		}
	}
	if math.IsInf(fastest, 1) {
		fastest = longest
	}
	c.Fastest = view.Duration(&fastest)
	lo, hi := 0, len(axisTicks)-1
	for i, t := range axisTicks {
		if t.secs < fastest {
			lo = i
		}
	}
	for i := len(axisTicks) - 1; i > lo; i-- {
		if axisTicks[i].secs >= longest {
			hi = i
		}
	}
	if hi <= lo {
		hi = min(lo+1, len(axisTicks)-1)
	}
	min0, max0 := axisTicks[lo].secs, axisTicks[hi].secs
	ph := float64(c.PlotHeight)
	frac := func(s float64) float64 {
		if s <= min0 {
			return 0
		}
		return min(math.Log(s/min0)/math.Log(max0/min0), 1)
	}
	for i := lo; i <= hi; i++ {
		c.Ticks = append(c.Ticks, ChartTick{Y: float64(c.PlotTop) + ph*(1-frac(axisTicks[i].secs)), Label: axisTicks[i].label})
	}
	plotW := float64(c.Width - c.PlotLeft - 10)
	w := plotW / float64(len(bars))
	for i, b := range bars {
		h := max(frac(b.Seconds)*ph, 2) // an answer at the axis's floor still shows
		value := view.Duration(&b.Seconds)
		if b.Censored {
			value = "> " + value
		}
		title := fmt.Sprintf("%s %s: %s, %s (SLA %s)", b.ProbeID, b.Priority, value, b.State.Label(), b.SLA)
		if b.AfterHours {
			title += ", sent after hours"
		}
		c.Bars = append(c.Bars, ChartBar{X: float64(c.PlotLeft) + float64(i)*w, Y: float64(c.PlotTop) + ph - h, W: max(w-1, 0.5), H: h,
			State: b.State, Censored: b.Censored, Title: title, Href: probePath(b.ProbeID)})
	}
	return c
}

// Heat is a vendor's hour-of-week heatmap in the vendor's zone: a cell shows the worst
// chart state of the probes sent in that hour (report.Cell.Worst) by its letter and
// colour, with answered/sent; empty cells inside business hours are shaded.
type Heat struct {
	Hours []string
	Rows  []HeatRow
}

// HeatRow is one day of the heatmap.
type HeatRow struct {
	Day   string
	Cells []HeatCell
}

// HeatCell is one hour of the heatmap.
type HeatCell struct {
	report.Cell
	Business bool
	Text     string
	Title    string
}

func heat(v report.Vendor, now time.Time) Heat {
	var h Heat
	for hr := range 24 {
		h.Hours = append(h.Hours, fmt.Sprintf("%02d", hr))
	}
	var grid [7][24]report.Cell
	for _, c := range v.Heatmap {
		for d, name := range report.Days {
			if name == c.Day && c.Hour >= 0 && c.Hour < 24 {
				grid[d][c.Hour] = c
			}
		}
	}
	// Business hours are read off the current week in the vendor's zone.
	bh, err := probe.NewBusinessHours(v.Hours)
	var monday time.Time
	if err == nil {
		monday = weekStart(now, bh.Location())
	}
	for d, name := range report.Days {
		row := HeatRow{Day: name}
		for hr := range 24 {
			c := grid[d][hr]
			hc := HeatCell{Cell: c}
			if err == nil {
				hc.Business = bh.IsOpen(time.Date(monday.Year(), monday.Month(), monday.Day()+d, hr, 30, 0, 0, monday.Location()))
			}
			when := fmt.Sprintf("%s %02d:00–%02d:00", name, hr, hr+1)
			if c.Sent == 0 {
				hc.Title = when + ": no probe"
				if hc.Business {
					hc.Title += " (business hours)"
				}
			} else {
				hc.Text = fmt.Sprintf("%s %d/%d", c.Worst.Letter(), c.Answered, c.Sent)
				hc.Title = fmt.Sprintf("%s: %d sent, %d answered; shown as %s: %s", when, c.Sent, c.Answered, c.Worst.Label(), c.States.Text())
			}
			row.Cells = append(row.Cells, hc)
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

func vendorPath(name string) string { return "/vendors/" + url.PathEscape(name) }
func probePath(id string) string    { return "/probes/" + url.PathEscape(id) }

func durText(s float64) string {
	if s < 0 {
		s = -s
		return "-" + view.Duration(&s)
	}
	return view.Duration(&s)
}

// estText formats an estimate: "2h05m", or "> 3d00h" when not reached; "-" for none.
func estText(e *report.Estimate) string {
	if e == nil {
		return "-"
	}
	if !e.Reached {
		return "> " + durText(e.Seconds)
	}
	return durText(e.Seconds)
}

func pctText(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", math.Round(*f*100))
}

// timeIn formats t in zone (the vendor's), with UTC beside it when they differ.
func timeIn(t any, zone string) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v == nil {
			return "-"
		}
		tt = *v
	default:
		return "-"
	}
	if tt.IsZero() {
		return "-"
	}
	utc := tt.UTC().Format("2006-01-02 15:04:05") + " UTC"
	loc, err := time.LoadLocation(zone)
	if zone == "" || err != nil || loc == time.UTC {
		return utc
	}
	return tt.In(loc).Format("2006-01-02 15:04:05 MST") + " (" + utc + ")"
}

var funcs = template.FuncMap{
	"dur": func(s any) string {
		switch v := s.(type) {
		case float64:
			return durText(v)
		case *float64:
			if v == nil {
				return "-"
			}
			return durText(*v)
		}
		return "-"
	},
	"est":            estText,
	"pct":            pctText,
	"timeIn":         timeIn,
	"decidableKinds": func() []probe.Kind { return review.Kinds },
	"kindLabel":      kindLabel,
	"vendorPath":     vendorPath,
	"probePath":      probePath,
	"stateLabel":     func(s report.ChartState) string { return s.Label() },
	"stateLetter":    func(s report.ChartState) string { return s.Letter() },
	"hoursRate": func(h HoursRate) string {
		if h.Rate == nil {
			return "-"
		}
		return fmt.Sprintf("%s (%d/%d)", pctText(h.Rate), h.Answered, h.Decided)
	},
	"attain": func(a report.Attainment) string {
		if a.Rate == nil {
			return fmt.Sprintf("%s: none decided", a.Priority)
		}
		s := fmt.Sprintf("%s: %s (%d/%d", a.Priority, pctText(a.Rate), a.Met, a.Decided)
		if a.Open > 0 {
			s += fmt.Sprintf(", %d open", a.Open)
		}
		return s + ")"
	},
	"periodLink": func(path, name string) string { return link(path, "period", name) },
	"join":       strings.Join,
	"add":        func(a, b int) int { return a + b },
	"conf": func(c *float64) string {
		if c == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f", *c)
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"f1": func(f float64) string { return fmt.Sprintf("%.1f", f) },
	// jsonLink is the request's address with format=json added.
	"jsonLink": func(r *http.Request) string {
		q := r.URL.Query()
		q.Set("format", "json")
		return r.URL.Path + "?" + q.Encode()
	},
	"deref2":      func(b *bool) bool { return b != nil && *b },
	"deref3":      func(c *probe.Clock) string { return string(*c) },
	"periodNames": func() []string { return Periods },
	"periodLabel": func(name string) string {
		return map[string]string{"7d": "last 7 days", "week": "this week", "lastweek": "last week", "all": "whole trial", "custom": "custom"}[name]
	},
	// periodQuery is "?period=…" keeping p on a link to another page; "" for the default.
	"periodQuery": func(p Period) string {
		if l := link("", p.query()...); l != "" {
			return l
		}
		return ""
	},
	"periodParams": func(p Period) map[string]string {
		kv, m := p.query(), map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	},
}

// kindLabel says what a decision's kind means, for the review form.
func kindLabel(k probe.Kind) string {
	switch k {
	case probe.KindHuman:
		return "a person's answer (human)"
	case probe.KindAutoAck:
		return "automatic acknowledgement (auto_ack)"
	case probe.KindOutOfOffice:
		return "out of office (out_of_office)"
	case probe.KindBounce:
		return "bounce"
	case probe.KindOther:
		return "something else (other)"
	}
	return string(k)
}
