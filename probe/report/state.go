package report

import (
	"fmt"
	"strings"

	"supportprobe/probe"
)

// ChartState is what a chart shows for one probe: a heatmap cell or a latency bar takes
// the worst ChartState of the probes it holds (ChartStates orders them), and says how
// many of each it holds, so a cell with one breach among two answers never reads as
// "all answered".
type ChartState string

// The chart states, worst first (the order of ChartStates). A probe has exactly one,
// from its status and SLA state (StateOf).
const (
	// StateBreached is a decided breach: a person answered after the target, or the
	// target passed with no answer by the deadline. A broken promise that can no
	// longer change, so it ranks first.
	StateBreached ChartState = "breached"
	// StateOpenBreached is a probe with no answer yet that is already past its
	// target. It is a breach too (it is in the one breach list) and can only end
	// breached, but it is still running, so it ranks after the decided ones.
	StateOpenBreached ChartState = "open_breached"
	// StateUnanswered is a probe no person answered by its deadline that broke no
	// target: it had none, or its deadline came before its target could pass
	// (undecided). Final and not answered, but no promise is known to be broken.
	StateUnanswered ChartState = "unanswered"
	// StateBounced is an inquiry that was not delivered: final and not answered, but
	// the vendor never had the chance to answer, so it is not held against it as
	// silence is.
	StateBounced ChartState = "bounced"
	// StateOpen is a probe with no answer yet, within its target (or with none),
	// before its deadline: nothing is known against the vendor yet.
	StateOpen ChartState = "open"
	// StateAnswered is a probe a person answered by the deadline within its target,
	// or with no target: the only good outcome, so it ranks last, and a cell shows it
	// only when every probe in it was answered so.
	StateAnswered ChartState = "answered"
)

// ChartStates lists the chart states from worst to best: the order in which a cell or
// bar picks the state it shows, and the order of the legends.
var ChartStates = []ChartState{StateBreached, StateOpenBreached, StateUnanswered, StateBounced, StateOpen, StateAnswered}

// StateOf returns the chart state of a probe that reached the vendor or bounced, from
// its status and SLA state; ok is false for a probe that was never sent (sending,
// failed, unknown), which no chart shows.
func StateOf(s probe.Status, sla probe.SLAState) (state ChartState, ok bool) {
	switch s {
	case probe.StatusSending, probe.StatusFailed, probe.StatusUnknown:
		return "", false
	case probe.StatusBounced:
		return StateBounced, true
	}
	switch sla {
	case probe.SLABreached:
		return StateBreached, true
	case probe.SLAOpenBreached:
		return StateOpenBreached, true
	}
	switch s {
	case probe.StatusAnswered:
		return StateAnswered, true
	case probe.StatusUnanswered:
		return StateUnanswered, true
	}
	return StateOpen, true // sent or acknowledged: no person yet, deadline ahead
}

// Letter is the one-letter code of s in the text heatmap and the HTML cells, so the
// state reads without telling colours apart: B, P (past target), U, N (not
// delivered), O, A.
func (s ChartState) Letter() string {
	return map[ChartState]string{StateBreached: "B", StateOpenBreached: "P", StateUnanswered: "U",
		StateBounced: "N", StateOpen: "O", StateAnswered: "A"}[s]
}

// Label is s in words, as the legends and tooltips say it.
func (s ChartState) Label() string {
	return map[ChartState]string{StateBreached: "breached", StateOpenBreached: "open past target",
		StateUnanswered: "unanswered", StateBounced: "bounced", StateOpen: "open", StateAnswered: "answered"}[s]
}

// StateCounts counts the probes of a heatmap cell by chart state; its JSON keys are the
// ChartState values, worst first.
type StateCounts struct {
	Breached     int `json:"breached"`
	OpenBreached int `json:"open_breached"`
	Unanswered   int `json:"unanswered"`
	Bounced      int `json:"bounced"`
	Open         int `json:"open"`
	Answered     int `json:"answered"`
}

// field returns the counter of s in c.
func (c *StateCounts) field(s ChartState) *int {
	switch s {
	case StateBreached:
		return &c.Breached
	case StateOpenBreached:
		return &c.OpenBreached
	case StateUnanswered:
		return &c.Unanswered
	case StateBounced:
		return &c.Bounced
	case StateOpen:
		return &c.Open
	case StateAnswered:
		return &c.Answered
	}
	return nil
}

// Count returns how many probes of c are in state s.
func (c StateCounts) Count(s ChartState) int {
	if p := c.field(s); p != nil {
		return *p
	}
	return 0
}

// Worst returns the worst state c holds a probe in, and "" when it holds none.
func (c StateCounts) Worst() ChartState {
	for _, s := range ChartStates {
		if c.Count(s) > 0 {
			return s
		}
	}
	return ""
}

// add counts one probe in state s.
func (c *StateCounts) add(s ChartState) {
	if p := c.field(s); p != nil {
		*p++
	}
}

// Text lists the states c holds, worst first, with their counts: "1 breached, 2
// answered".
func (c StateCounts) Text() string {
	var parts []string
	for _, s := range ChartStates {
		if n := c.Count(s); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s.Label()))
		}
	}
	return strings.Join(parts, ", ")
}

// Mixed reports whether c holds probes in more than one state, so that its worst state
// alone does not say what it holds.
func (c StateCounts) Mixed() bool {
	n := 0
	for _, s := range ChartStates {
		if c.Count(s) > 0 {
			n++
		}
	}
	return n > 1
}

// mixedCells describes the cells holding probes in more than one state, whose letter
// and colour name only the worst, in the order given: "Mon 09h: 1 open past target, 2
// answered".
func mixedCells(cells []Cell) []string {
	var out []string
	for _, c := range cells {
		if c.States.Mixed() {
			out = append(out, fmt.Sprintf("%s %02dh: %s", c.Day, c.Hour, c.States.Text()))
		}
	}
	return out
}

// legendText is the legend of the charts in words, worst first: "B breached, P open
// past target, ...".
func legendText() string {
	parts := make([]string, len(ChartStates))
	for i, s := range ChartStates {
		parts[i] = s.Letter() + " " + s.Label()
	}
	return strings.Join(parts, ", ")
}
