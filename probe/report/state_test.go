package report

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

func TestStateOf(t *testing.T) {
	tests := []struct {
		status probe.Status
		sla    probe.SLAState
		want   ChartState
		ok     bool
	}{
		{probe.StatusAnswered, probe.SLAMet, StateAnswered, true},
		{probe.StatusAnswered, probe.SLANone, StateAnswered, true},
		{probe.StatusAnswered, probe.SLABreached, StateBreached, true},
		{probe.StatusUnanswered, probe.SLABreached, StateBreached, true},
		{probe.StatusUnanswered, probe.SLAUndecided, StateUnanswered, true},
		{probe.StatusUnanswered, probe.SLANone, StateUnanswered, true},
		{probe.StatusSent, probe.SLAOpenBreached, StateOpenBreached, true},
		{probe.StatusAcknowledged, probe.SLAOpenBreached, StateOpenBreached, true},
		{probe.StatusSent, probe.SLAOpen, StateOpen, true},
		{probe.StatusAcknowledged, probe.SLANone, StateOpen, true},
		{probe.StatusBounced, probe.SLANone, StateBounced, true},
		{probe.StatusFailed, probe.SLANone, "", false},
		{probe.StatusUnknown, probe.SLANone, "", false},
		{probe.StatusSending, probe.SLANone, "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.status)+"/"+string(tt.sla), func(t *testing.T) {
			got, ok := StateOf(tt.status, tt.sla)
			if got != tt.want || ok != tt.ok {
				t.Errorf("StateOf(%s, %s) = %q, %v, want %q, %v", tt.status, tt.sla, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestStateCountsWorst(t *testing.T) {
	// Each state beats every state after it in ChartStates, whatever the counts.
	for i, worse := range ChartStates {
		for _, better := range ChartStates[i+1:] {
			var c StateCounts
			c.add(better)
			c.add(better)
			c.add(worse)
			if got := c.Worst(); got != worse {
				t.Errorf("Worst() of 2 %s and 1 %s = %q, want %q", better, worse, got, worse)
			}
			if !c.Mixed() {
				t.Errorf("Mixed() of 2 %s and 1 %s = false, want true", better, worse)
			}
		}
	}
	var c StateCounts
	if got := c.Worst(); got != "" {
		t.Errorf("Worst() of no probe = %q, want empty", got)
	}
	c.add(StateAnswered)
	if c.Mixed() {
		t.Error("Mixed() of 1 answered = true, want false")
	}
}

// mixedWeek is a week of lotus probes (Asia/Shanghai, P1 1h calendar target, P3 none,
// 48h deadline; report at Mon 30 Nov 10:00) whose hours mix states, each cell as the
// issue saw it: "2/3" and "1/2" once shown as all answered.
func mixedWeek(t *testing.T) Report {
	t.Helper()
	sh := mustLoc(t, "Asia/Shanghai")
	S := func(s string) time.Time { return wall(t, sh, s) }
	human := func(at time.Time) probe.Reply {
		return rep(probe.KindHuman, at, "Agent <agent@lotus.example>", "Re: question")
	}
	bounce := func(at time.Time) probe.Reply {
		return rep(probe.KindBounce, at, "MAILER-DAEMON@mx.lotus.example", "Undelivered Mail Returned to Sender")
	}
	ps := []probe.Probe{
		// Mon 09h: answered within target only.
		sent("Q01", "lotus", "s", "en", probe.P1, S("2026-11-23 09:00"), human(S("2026-11-23 09:20"))),
		// Tue 10h: answered (no target) and bounced.
		sent("Q02", "lotus", "s", "en", probe.P3, S("2026-11-24 10:00"), human(S("2026-11-24 11:00"))),
		sent("Q03", "lotus", "s", "en", probe.P3, S("2026-11-24 10:05"), bounce(S("2026-11-24 10:06"))),
		// Wed 11h: answered within target and answered after it.
		sent("Q04", "lotus", "s", "en", probe.P1, S("2026-11-25 11:00"), human(S("2026-11-25 11:30"))),
		sent("Q05", "lotus", "s", "en", probe.P1, S("2026-11-25 11:10"), human(S("2026-11-25 13:10"))),
		// Thu 15h: answered and unanswered by the deadline, no target: "1/2".
		sent("Q06", "lotus", "s", "en", probe.P3, S("2026-11-26 15:00"), human(S("2026-11-26 16:00"))),
		sent("Q07", "lotus", "s", "en", probe.P3, S("2026-11-26 15:30")),
		// Sun 09h: two answered within target, one open past its 1h target: "2/3".
		sent("Q08", "lotus", "s", "en", probe.P1, S("2026-11-29 09:00"), human(S("2026-11-29 09:30"))),
		sent("Q09", "lotus", "s", "en", probe.P1, S("2026-11-29 09:10"), human(S("2026-11-29 09:40"))),
		sent("Q10", "lotus", "s", "en", probe.P1, S("2026-11-29 09:20")),
		// Sun 20h: answered (no target) and open.
		sent("Q11", "lotus", "s", "en", probe.P3, S("2026-11-29 20:00"), human(S("2026-11-29 20:10"))),
		sent("Q12", "lotus", "s", "en", probe.P3, S("2026-11-29 20:30")),
		// Never sent: in no cell.
		notSent("Q13", "lotus", "s", "en", probe.P1, probe.StateFailed, S("2026-11-29 09:30"), "554 5.7.1 relay access denied"),
	}
	since := S("2026-11-23 00:00")
	return mustBuild(t, ps, nil, Options{Since: since, Until: since.AddDate(0, 0, 7), Now: S("2026-11-30 10:00"), Title: "mixed"})
}

// wantCells are mixedWeek's cells: the worst state, the counts by state, and the text
// the HTML cell shows (the worst state's letter, then answered / sent).
var wantCells = []struct {
	day    string
	hour   int
	worst  ChartState
	states StateCounts
	text   string
}{
	{"Mon", 9, StateAnswered, StateCounts{Answered: 1}, "A1/1"},
	{"Tue", 10, StateBounced, StateCounts{Bounced: 1, Answered: 1}, "N1/2"},
	{"Wed", 11, StateBreached, StateCounts{Breached: 1, Answered: 1}, "B2/2"},
	{"Thu", 15, StateUnanswered, StateCounts{Unanswered: 1, Answered: 1}, "U1/2"},
	{"Sun", 9, StateOpenBreached, StateCounts{OpenBreached: 1, Answered: 2}, "P2/3"},
	{"Sun", 20, StateOpen, StateCounts{Open: 1, Answered: 1}, "O1/2"},
}

func TestHeatmapWorstState(t *testing.T) {
	r := mixedWeek(t)
	cells := r.Vendors[0].Heatmap
	if len(cells) != len(wantCells) {
		t.Fatalf("Heatmap has %d cells, want %d: %+v", len(cells), len(wantCells), cells)
	}
	for i, w := range wantCells {
		c := cells[i]
		if c.Day != w.day || c.Hour != w.hour || c.Worst != w.worst || c.States != w.states {
			t.Errorf("cell %d = %s %02dh worst %q states %+v, want %s %02dh worst %q states %+v",
				i, c.Day, c.Hour, c.Worst, c.States, w.day, w.hour, w.worst, w.states)
		}
		n := 0
		for _, s := range ChartStates {
			n += c.States.Count(s)
		}
		if n != c.Sent {
			t.Errorf("cell %s %02dh: states add up to %d, want Sent %d", c.Day, c.Hour, n, c.Sent)
		}
	}

	// The JSON carries worst and the counts under the state names.
	var doc struct {
		Vendors []struct {
			Heatmap []map[string]any `json:"heatmap"`
		} `json:"vendors"`
	}
	if err := json.Unmarshal(render(t, r, "json"), &doc); err != nil {
		t.Fatal(err)
	}
	sun9 := doc.Vendors[0].Heatmap[4]
	states, _ := sun9["states"].(map[string]any)
	if sun9["worst"] != "open_breached" || states["open_breached"] != 1.0 || states["answered"] != 2.0 || states["breached"] != 0.0 {
		t.Errorf("JSON Sun 09h cell = %v, want worst open_breached, states open_breached 1, answered 2", sun9)
	}
}

func TestHeatmapHTMLShowsWorstState(t *testing.T) {
	page := string(render(t, mixedWeek(t), "html"))
	cell := regexp.MustCompile(`<td align="center" bgcolor="(#[0-9a-f]{6})" title="([^"]*)" style="color:(#[0-9a-f]{6});">([^<]*)</td>`)
	got := cell.FindAllStringSubmatch(page, -1)
	if len(got) != len(wantCells) {
		t.Fatalf("page has %d heatmap cells with probes, want %d", len(got), len(wantCells))
	}
	for i, w := range wantCells {
		bg, title, fg, text := got[i][1], html.UnescapeString(got[i][2]), got[i][3], got[i][4]
		if text != w.text {
			t.Errorf("cell %s %02dh text = %q, want %q", w.day, w.hour, text, w.text)
		}
		if want := stateColors[w.worst]; bg != want.bg || fg != want.fg {
			t.Errorf("cell %s %02dh colours = %s on %s, want %s on %s (%s)", w.day, w.hour, fg, bg, want.fg, want.bg, w.worst)
		}
		if !strings.Contains(title, "shown as "+w.worst.Label()+": "+w.states.Text()) {
			t.Errorf("cell %s %02dh tooltip = %q, want the worst state and the count of each", w.day, w.hour, title)
		}
	}
	if !strings.Contains(page, "Sun 09h: 1 open past target, 2 answered") || !strings.Contains(page, "Thu 15h: 1 unanswered, 1 answered") {
		t.Error("page does not list the mixed hours with the count of each state")
	}

	// The legend names every state with the colour and letter the cells use, worst first.
	legendAt := strings.Index(page, "Worst first: ")
	if legendAt < 0 {
		t.Fatal("page has no heatmap legend")
	}
	rest := page[legendAt:]
	prev := -1
	for _, s := range ChartStates {
		entry := fmt.Sprintf(`<span style="background:%s;color:%s;padding:0 3px;">%s</span> %s`,
			stateColors[s].bg, stateColors[s].fg, s.Letter(), html.EscapeString(s.Label()))
		at := strings.Index(rest, entry)
		if at < 0 {
			t.Errorf("heatmap legend lacks %s: %s", s, entry)
			continue
		}
		if at < prev {
			t.Errorf("heatmap legend lists %s out of order", s)
		}
		prev = at
	}
}

func TestBarsShowState(t *testing.T) {
	r := mixedWeek(t)
	want := map[string]ChartState{
		"Q01": StateAnswered, "Q02": StateAnswered, "Q04": StateAnswered, "Q05": StateBreached,
		"Q06": StateAnswered, "Q07": StateUnanswered, "Q08": StateAnswered, "Q09": StateAnswered,
		"Q10": StateOpenBreached, "Q11": StateAnswered, "Q12": StateOpen,
	}
	bars := r.Vendors[0].Latencies
	if len(bars) != len(want) {
		t.Fatalf("Latencies has %d bars, want %d (the bounced and the failed probe have none)", len(bars), len(want))
	}
	page := string(render(t, r, "html"))
	for _, b := range bars {
		if b.State != want[b.ProbeID] {
			t.Errorf("bar %s state = %q, want %q", b.ProbeID, b.State, want[b.ProbeID])
		}
		// The bar is drawn in its state's colour and says its state in words.
		row := regexp.MustCompile(`<tr title="probe ` + b.ProbeID + `, [^"]*">.*</tr>`).FindString(page)
		if !strings.Contains(row, `bgcolor="`+stateColors[b.State].bg+`"`) || !strings.Contains(row, ">"+html.EscapeString(b.State.Label())+"<span") {
			t.Errorf("bar %s row = %q, want colour %s and label %q", b.ProbeID, row, stateColors[b.State].bg, b.State.Label())
		}
	}
	for _, s := range barStates {
		if !strings.Contains(page, `<span style="background:`+stateColors[s].bg+`;">&nbsp;&nbsp;&nbsp;</span> `+html.EscapeString(s.Label())) {
			t.Errorf("bar legend lacks %s", s)
		}
	}
}

func TestHeatmapText(t *testing.T) {
	text := string(render(t, mixedWeek(t), "txt"))
	// The grid row of each day, found by its name after the hour header.
	at := strings.Index(text, "      00 01 02")
	if at < 0 {
		t.Fatalf("text has no heatmap header:\n%s", text)
	}
	rows := strings.Split(text[at:], "\n")[1:8]
	for _, w := range wantCells {
		var row string
		for _, r := range rows {
			if strings.HasPrefix(r, "  "+w.day) {
				row = r
			}
		}
		// Column of hour h: "  Mon" is 5 wide, then 3 per hour, right-aligned.
		start := 5 + 3*w.hour
		if len(row) < start+3 {
			t.Errorf("row %q too short for hour %d", row, w.hour)
			continue
		}
		sent := 0
		for _, s := range ChartStates {
			sent += w.states.Count(s)
		}
		if got, want := strings.TrimSpace(row[start:start+3]), fmt.Sprintf("%s%d", w.worst.Letter(), sent); got != want {
			t.Errorf("text cell %s %02dh = %q, want %q", w.day, w.hour, got, want)
		}
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{
		"Worst first: B breached, P open past target, U unanswered, N bounced, O open, A answered.",
		"Sun 09h: 1 open past target, 2 answered",
		"Thu 15h: 1 unanswered, 1 answered",
		"Tue 10h: 1 bounced, 1 answered",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(flat, "Mon 09h:") {
		t.Error("text lists Mon 09h among the mixed hours; it holds answered probes only")
	}
}

func TestHeatTextOverflow(t *testing.T) {
	for _, tt := range []struct {
		c    Cell
		want string
	}{
		{Cell{Sent: 7, Worst: StateOpen}, "O7"},
		{Cell{Sent: 99, Worst: StateBreached}, "B99"},
		{Cell{Sent: 120, Worst: StateAnswered}, "A++"},
	} {
		if got := heatText(tt.c); got != tt.want {
			t.Errorf("heatText(%d sent, worst %s) = %q, want %q", tt.c.Sent, tt.c.Worst, got, tt.want)
		}
	}
	// A cell over 99 of one state is spelled out under the grid.
	v := Vendor{Heatmap: []Cell{{Day: "Tue", Hour: 3, Sent: 120, Worst: StateAnswered, States: StateCounts{Answered: 120}}}}
	var b strings.Builder
	v.textHeatmap(&textWriter{w: &b}, "UTC")
	if !strings.Contains(b.String(), "A++") || !strings.Contains(b.String(), `Hours with over 99 probes ("++"): Tue 03h: 120 answered.`) {
		t.Errorf("textHeatmap of a cell with 120 probes:\n%s", b.String())
	}
}
