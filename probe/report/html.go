package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"supportprobe/probe"
)

// The HTML form is meant for the weekly mail as much as for a browser, so it uses what
// mail clients display: nested tables, inline style attributes (no <style> block,
// which several clients drop), bgcolor/width attributes beside the CSS, no scripts, no
// images, no external resources. Charts are tables whose cells are the bars.
//
// Every string reaches the page through html/template, which escapes it for its
// context; nothing is ever marked template.HTML. The template only receives numbers
// and colours computed here, and the report's own strings.

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":          dur,
	"est":          est,
	"pct":          pct,
	"target":       target,
	"targets":      targets,
	"attainment":   attainment,
	"ratio":        ratio,
	"fraction":     fraction,
	"plural":       plural,
	"actual":       actual,
	"reviewText":   reviewText,
	"localTime":    localTime,
	"utcTime":      utcTime,
	"hoursText":    hoursText,
	"pauseText":    pauseText,
	"pausedText":   pausedText,
	"statusWord":   statusWord,
	"join":         strings.Join,
	"add":          func(a, b int) int { return a + b },
	"color":        func(name string) string { return legendColors[name] },
	"heatLegend":   func() []htmlLegend { return legend(ChartStates) },
	"minIntervalN": func() int { return MinIntervalN },
	"barLegend":    func() []htmlLegend { return legend(barStates) },
	// dict builds the argument of a nested template from key, value pairs.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	"shift": func(s Shift) string {
		d := "n/a"
		if s.Delta != nil {
			d = points(*s.Delta)
		}
		return fmt.Sprintf("%s (%s → %s)", d, pct(s.Prev), pct(s.Cur))
	},
	"durShift": func(s DurationShift) string {
		d := "n/a"
		if s.DeltaSeconds != nil {
			d = signedDur(*s.DeltaSeconds)
		}
		return fmt.Sprintf("%s (%s → %s)", d, est(s.Prev), est(s.Cur))
	},
	"groupLabel": func(by string) string {
		return map[string]string{ByPriority: "By priority", ByHours: "Sent during", ByLanguage: "By language", ByScript: "By script", ByHour: "Hour sent (vendor's clock)"}[by]
	},
	"keyOrNone":    keyOr,
	"langFit":      langFit,
	"mismatchText": mismatchText,
}).Parse(htmlSource))

// WriteHTML writes r as one self-contained HTML page for a browser or an HTML mail:
// inline CSS only, no scripts, no external resources. Per vendor it draws the time to
// first response of every probe as a horizontal bar (logarithmic scale; a probe without
// an answer up to where it is censored, its value marked "> "), and an hour-of-week
// heatmap of the probes sent, on the wall clock of the vendor's zone. Bars and cells
// take the colour of their chart state (a cell the worst of its probes', see
// ChartStates) and say it in text too. It returns the first error from w.
func (r Report) WriteHTML(w io.Writer) error {
	return htmlTemplate.Execute(w, newHTMLPage(r))
}

type htmlPage struct {
	Report
	Breached, OpenBreached []Breach
	BreachCount            map[string]int
	Vendors                []htmlVendor
	// Rest says how many breaches the list leaves out and where they are; "" when
	// it lists them all.
	Rest string
}

type htmlVendor struct {
	Vendor
	ZoneText string
	Met      int
	Decided  int
	SLARows  []htmlSLA
	Chart    htmlChart
	Heat     htmlHeat
	// LangGroups are the ByLanguage groups with a human reply.
	LangGroups []Group
}

type htmlSLA struct {
	Attainment
	// Segments of the interval bar, in pixels: grey to Lo, green to Rate, the marker,
	// green to Hi, grey to the end. Empty when nothing is decided.
	Segs []htmlSeg
}

type htmlSeg struct {
	Px    int
	Color string
}

type htmlChart struct {
	Bars []htmlBar
	Axis []htmlTick
	Max  string // the label of the right end of the scale
}

// MinIntervalN is the fewest decided probes for which a report shows a 95% Wilson
// interval: with fewer, the interval spans most of 0–100% and says nothing a reader can
// use, so the rate is shown with "too few for an interval" (the JSON keeps Lo and Hi).
const MinIntervalN = 5

type htmlBar struct {
	Bar
	// Label names the probe: "probe P104".
	Label string
	// Words say the rest in words: "P1 priority, sent after hours".
	Words   string
	Value   string
	Pct     string // the bar's width, "37.5%"
	Rest    string // what is left of the row
	Color   string
	Caption string // the tooltip
	// StateText is the bar's chart state in words, printed beside it.
	StateText string
}

type htmlTick struct {
	Label string
	Pct   string
}

type htmlHeat struct {
	Hours []string
	Rows  []htmlHeatRow
	// Mixed describes the hours holding probes in more than one state, whose letter
	// names only the worst: "Mon 09h: 1 open past target, 2 answered".
	Mixed []string
}

type htmlHeatRow struct {
	Day   string
	Cells []htmlHeatCell
}

type htmlHeatCell struct {
	Cell
	Text    string
	Color   string
	Fg      string // the text colour
	Caption string
}

// Colours. The chart states take the Okabe–Ito palette, which people with any common
// colour-vision deficiency can tell apart, and every cell and bar also says its state
// in text (a letter in the heatmap, a word beside the bar), so no reader depends on
// colour alone. The SLA interval bars keep their own greens: they show a rate, not a
// state.
const (
	colIntervalBg   = "#e6e6e6"
	colInterval     = "#a5d6a7"
	colMarker       = "#1b5e20"
	colHeatBusiness = "#fff6d5"
	colHeatClosed   = "#ffffff"
)

// stateColors gives each chart state its background and the text colour that reads on
// it.
var stateColors = map[ChartState]struct{ bg, fg string }{
	StateBreached:     {"#d55e00", "#ffffff"}, // vermillion
	StateOpenBreached: {"#e69f00", "#000000"}, // orange
	StateUnanswered:   {"#cc79a7", "#000000"}, // reddish purple
	StateBounced:      {"#bbbbbb", "#000000"}, // grey
	StateOpen:         {"#56b4e9", "#000000"}, // sky blue
	StateAnswered:     {"#009e73", "#ffffff"}, // bluish green
}

// legendColors names the colours of the legends that are not chart states.
var legendColors = map[string]string{"heatbusiness": colHeatBusiness}

// htmlLegend is one entry of a chart's legend.
type htmlLegend struct {
	Letter, Label string
	Color, Text   string
}

// legend returns the legend entries of the given states, worst first.
func legend(states []ChartState) []htmlLegend {
	var out []htmlLegend
	for _, s := range states {
		out = append(out, htmlLegend{Letter: s.Letter(), Label: s.Label(), Color: stateColors[s].bg, Text: stateColors[s].fg})
	}
	return out
}

// barStates are the states a latency bar can be in: every chart state but bounced, as
// a bounced probe has no latency.
var barStates = []ChartState{StateBreached, StateOpenBreached, StateUnanswered, StateOpen, StateAnswered}

func newHTMLPage(r Report) htmlPage {
	pg := htmlPage{Report: r, BreachCount: map[string]int{}}
	for _, b := range r.Breaches {
		pg.BreachCount[b.Vendor]++
		if b.SLA == probe.SLAOpenBreached {
			pg.OpenBreached = append(pg.OpenBreached, b)
		} else {
			pg.Breached = append(pg.Breached, b)
		}
	}
	for _, v := range r.Vendors {
		hv := htmlVendor{Vendor: v, ZoneText: strings.Join(v.Zones, ", ")}
		if hv.ZoneText == "" {
			hv.ZoneText = v.Hours.Zone
		}
		for _, a := range v.SLA {
			hv.Met += a.Met
			hv.Decided += a.Decided
			hv.SLARows = append(hv.SLARows, htmlSLA{Attainment: a, Segs: intervalBar(a)})
		}
		hv.Chart = chart(v.Latencies)
		hv.Heat = heat(v)
		hv.LangGroups = v.languageGroups()
		pg.Vendors = append(pg.Vendors, hv)
	}
	return pg
}

// intervalWidth is the width of an SLA interval bar in pixels.
const intervalWidth = 160

func intervalBar(a Attainment) []htmlSeg {
	if a.Rate == nil || a.Lo == nil || a.Hi == nil || a.Decided < MinIntervalN {
		return nil
	}
	px := func(f float64) int { return int(math.Round(f * intervalWidth)) }
	lo, rate, hi := px(*a.Lo), px(*a.Rate), px(*a.Hi)
	// The marker is 2px wide and sits inside the bar, at the rate.
	rate = min(max(rate, 1), intervalWidth-1)
	lo, hi = min(lo, rate-1), max(hi, rate+1)
	var segs []htmlSeg
	add := func(n int, c string) {
		if n > 0 {
			segs = append(segs, htmlSeg{n, c})
		}
	}
	add(lo, colIntervalBg)
	add(rate-1-lo, colInterval)
	add(2, colMarker)
	add(hi-rate-1, colInterval)
	add(intervalWidth-hi, colIntervalBg)
	return segs
}

// The ticks of the latency scale. The scale starts at the last tick below the
// fastest bar (so the fastest answer is a bar, not a sliver at the left edge) and ends
// at the first tick not below the longest, two intervals at least.
var scaleTicks = []struct {
	secs  float64
	label string
}{
	{1, "1s"}, {10, "10s"}, {60, "1m"}, {600, "10m"}, {3600, "1h"}, {6 * 3600, "6h"}, {86400, "1d"},
	{3 * 86400, "3d"}, {7 * 86400, "7d"}, {30 * 86400, "30d"}, {365 * 86400, "1y"},
}

// scaleRange returns the indexes in scaleTicks of the scale's start and end for bars
// from fastest to longest seconds.
func scaleRange(fastest, longest float64) (start, end int) {
	for i, t := range scaleTicks {
		if t.secs < fastest {
			start = i
		}
	}
	start = min(start, len(scaleTicks)-3)
	end = len(scaleTicks) - 1
	for i := start + 2; i < len(scaleTicks); i++ {
		if scaleTicks[i].secs >= longest {
			end = i
			break
		}
	}
	return start, end
}

func chart(bars []Bar) htmlChart {
	var c htmlChart
	if len(bars) == 0 {
		return c
	}
	longest, fastest := 0.0, math.Inf(1)
	for _, b := range bars {
		longest = max(longest, b.Seconds)
		fastest = min(fastest, b.Seconds)
	}
	start, end := scaleRange(fastest, longest)
	lo, hi := scaleTicks[start].secs, scaleTicks[end].secs
	pos := func(s float64) float64 {
		if s <= lo {
			return 0
		}
		return min(math.Log(s/lo)/math.Log(hi/lo), 1)
	}
	pctText := func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }
	for i := start; i < end; i++ {
		c.Axis = append(c.Axis, htmlTick{Label: scaleTicks[i].label, Pct: pctText(pos(scaleTicks[i+1].secs) - pos(scaleTicks[i].secs))})
	}
	c.Max = scaleTicks[end].label
	for _, b := range bars {
		// A bar is at least 1% wide, so an answer at the scale's start still shows.
		w := max(pos(b.Seconds), 0.01)
		hb := htmlBar{Bar: b, Label: "probe " + b.ProbeID, Words: string(b.Priority) + " priority", Value: dur(b.Seconds),
			Pct: pctText(w), Rest: pctText(1 - w), Color: stateColors[b.State].bg, StateText: b.State.Label()}
		if b.AfterHours {
			hb.Words += ", sent after hours"
		}
		if b.Censored {
			hb.Value = "> " + hb.Value
			if b.Status == probe.StatusUnanswered {
				hb.Value += " no answer"
			} else {
				hb.Value += " open"
			}
		}
		hb.Caption = fmt.Sprintf("probe %s, %s: %s, %s (SLA %s)", b.ProbeID, hb.Words, hb.Value, hb.StateText, b.SLA)
		c.Bars = append(c.Bars, hb)
	}
	return c
}

func heat(v Vendor) htmlHeat {
	var h htmlHeat
	for hr := range 24 {
		h.Hours = append(h.Hours, fmt.Sprintf("%02d", hr))
	}
	h.Mixed = mixedCells(v.Heatmap)
	open := businessGrid(v.Hours)
	var grid [7][24]Cell
	for _, c := range v.Heatmap {
		for d, name := range Days {
			if name == c.Day && c.Hour >= 0 && c.Hour < 24 {
				grid[d][c.Hour] = c
			}
		}
	}
	for d, name := range Days {
		row := htmlHeatRow{Day: name}
		for hr := range 24 {
			c := grid[d][hr]
			hc := htmlHeatCell{Cell: c, Color: colHeatClosed}
			if open[d][hr] {
				hc.Color = colHeatBusiness
			}
			when := fmt.Sprintf("%s %02d:00–%02d:00", name, hr, hr+1)
			if c.Sent == 0 {
				hc.Caption = when + ": no probe"
			} else {
				// The letter names the worst state; the colour repeats it.
				hc.Text = c.Worst.Letter() + fmt.Sprintf("%d/%d", c.Answered, c.Sent)
				hc.Color, hc.Fg = stateColors[c.Worst].bg, stateColors[c.Worst].fg
				hc.Caption = fmt.Sprintf("%s: %d sent, %d answered; shown as %s: %s", when, c.Sent, c.Answered, c.Worst.Label(), c.States.Text())
			}
			row.Cells = append(row.Cells, hc)
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}
