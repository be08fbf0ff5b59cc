package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Delivery is the state of one event on one channel.
type Delivery struct {
	// Channel is the channel's Name.
	Channel string `json:"channel"`
	// Attempts counts the tries so far.
	Attempts int `json:"attempts"`
	// DeliveredAt is when the channel accepted the event; zero until then.
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// GaveUpAt is when the dispatcher stopped trying (GiveUpAfter passed); zero while
	// it still tries.
	GaveUpAt time.Time `json:"gave_up_at,omitzero"`
	// LastError is the last attempt's error, "" after a success.
	LastError string `json:"last_error,omitempty"`
	// NextTry is the earliest moment of the next attempt.
	NextTry time.Time `json:"next_try,omitzero"`
}

// Done reports whether nothing more will be tried: delivered or given up.
func (d Delivery) Done() bool { return !d.DeliveredAt.IsZero() || !d.GaveUpAt.IsZero() }

// Record is an event in the log with one delivery per channel it was raised for.
type Record struct {
	Event      Event      `json:"event"`
	RaisedAt   time.Time  `json:"raised_at"`
	Deliveries []Delivery `json:"deliveries"`
}

// Log keeps raised events and their deliveries durably (the store's alerts bucket).
type Log interface {
	// Raise records ev with a pending delivery on each channel, due at once, unless
	// an event with ev.ID is already recorded; it reports whether ev was new.
	Raise(ev Event, channels []string, now time.Time) (bool, error)
	// Due returns the records with a delivery that is not Done and whose NextTry is
	// not after now, oldest first.
	Due(now time.Time) ([]Record, error)
	// Update replaces the delivery on d.Channel of the event with the given ID.
	Update(id string, d Delivery) error
}

// GiveUpAfter is how long the dispatcher keeps retrying an undelivered alert.
const GiveUpAfter = 24 * time.Hour

// Backoff returns the wait after the given number of failed attempts: 10 s, 30 s,
// 90 s, … at most an hour.
func Backoff(attempts int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 3
	}
	return min(d, time.Hour)
}

// ChannelStatus is what status and /metrics show of a channel.
type ChannelStatus struct {
	Name string `json:"name"`
	// Delivered and Failed count attempts since the daemon started.
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	// Limited counts deliveries held back by the rate limit since the daemon started.
	Limited int `json:"rate_limited"`
	// Failing is true while the channel's last attempt failed.
	Failing     bool      `json:"failing"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	LastOK      time.Time `json:"last_ok,omitzero"`
}

// Dispatcher delivers the events of a Log on its channels.
type Dispatcher struct {
	log      Log
	channels []Channel
	perHour  int
	now      func() time.Time
	logger   *slog.Logger

	wake chan struct{}

	mu     sync.Mutex
	status map[string]*ChannelStatus
	recent map[string][]time.Time // deliveries in the last hour, per channel
}

// Options configure a Dispatcher.
type Options struct {
	// MaxPerHour is each channel's rate limit; 0 means 30. Deliveries over it wait,
	// they are not dropped.
	MaxPerHour int
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Logger receives a line per delivery and failure; slog.Default if nil.
	Logger *slog.Logger
}

// NewDispatcher returns a dispatcher of log's events on channels.
func NewDispatcher(log Log, channels []Channel, opts Options) *Dispatcher {
	if opts.MaxPerHour <= 0 {
		opts.MaxPerHour = 30
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Dispatcher{log: log, channels: channels, perHour: opts.MaxPerHour, now: opts.Now, logger: opts.Logger,
		wake: make(chan struct{}, 1), status: map[string]*ChannelStatus{}, recent: map[string][]time.Time{}}
	for _, c := range channels {
		d.status[c.Name()] = &ChannelStatus{Name: c.Name()}
	}
	return d
}

// Channels returns the channels' names, in configuration order.
func (d *Dispatcher) Channels() []string {
	names := make([]string, len(d.channels))
	for i, c := range d.channels {
		names[i] = c.Name()
	}
	return names
}

// Raise records ev for every channel and wakes the dispatcher; it reports whether ev
// was new. With no channel configured the event is still logged, so `alerts list`
// shows what would have been sent.
func (d *Dispatcher) Raise(ev Event) (bool, error) {
	if ev.At.IsZero() {
		ev.At = d.now()
	}
	isNew, err := d.log.Raise(ev, d.Channels(), d.now())
	if err != nil || !isNew {
		return isNew, err
	}
	d.logger.Info("alert raised", "alert", ev.ID, "event", ev.Event, "vendor", ev.Vendor, "probe", ev.Probe, "message", ev.Message)
	d.Wake()
	return true, nil
}

// Wake makes a running dispatcher look for due deliveries now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Status returns each channel's status, in configuration order.
func (d *Dispatcher) Status() []ChannelStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]ChannelStatus, 0, len(d.channels))
	for _, c := range d.channels {
		out = append(out, *d.status[c.Name()])
	}
	return out
}

// Run delivers due events until ctx ends, looking again when Raise or Wake is called,
// when the next retry or rate-limited delivery falls due, and in any case at every
// multiple of poll (counted from Go's zero time, so that other safety-net timers on the
// same grid fire with it and an idle process wakes once for all of them).
func (d *Dispatcher) Run(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = 30 * time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
		next := d.Drain(ctx)
		now := d.now()
		wait := now.Truncate(poll).Add(poll).Sub(now)
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(now), 10*time.Millisecond))
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// Drain makes one attempt at every due delivery, each channel in its own goroutine so
// that a slow channel does not hold up the others, and returns the earliest NextTry
// still pending, among the deliveries it attempted and those not yet due (zero if
// none).
func (d *Dispatcher) Drain(ctx context.Context) time.Time {
	now := d.now()
	// Every record with a delivery pending, due or not: the ones not due tell Run
	// when to look next, so it need not poll for them.
	recs, err := d.log.Due(time.Unix(1<<62, 0))
	if err != nil {
		d.logger.Error("alerts: read the alert log", "err", err)
		return now.Add(time.Minute)
	}
	type job struct {
		ev     Event
		raised time.Time
		dl     Delivery
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		earliest time.Time
	)
	note := func(t time.Time) {
		mu.Lock()
		if earliest.IsZero() || t.Before(earliest) {
			earliest = t
		}
		mu.Unlock()
	}
	jobs := map[string][]job{}
	for _, r := range recs {
		for _, dl := range r.Deliveries {
			switch {
			case dl.Done():
			case dl.NextTry.After(now):
				note(dl.NextTry)
			default:
				jobs[dl.Channel] = append(jobs[dl.Channel], job{r.Event, r.RaisedAt, dl})
			}
		}
	}
	for _, c := range d.channels {
		js := jobs[c.Name()]
		if len(js) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range js {
				if ctx.Err() != nil {
					return
				}
				if next, ok := d.attempt(ctx, c, j.ev, j.raised, j.dl); ok {
					note(next)
				}
			}
		}()
	}
	// Deliveries on a channel that is no longer configured: give up on them, with the
	// reason, rather than keep them due forever.
	for name, js := range jobs {
		if slices.Contains(d.Channels(), name) {
			continue
		}
		for _, j := range js {
			j.dl.GaveUpAt, j.dl.LastError = now, "channel "+name+" is no longer configured"
			if err := d.log.Update(j.ev.ID, j.dl); err != nil {
				d.logger.Error("alerts: record a delivery", "alert", j.ev.ID, "channel", name, "err", err)
			}
		}
	}
	wg.Wait()
	return earliest
}

// attempt delivers one event on c unless the rate limit holds it back, records the
// outcome, and returns when to try again if it is still pending.
func (d *Dispatcher) attempt(ctx context.Context, c Channel, ev Event, raised time.Time, dl Delivery) (time.Time, bool) {
	return d.attemptInto(ctx, c, ev, raised, &dl)
}

// attemptInto is attempt on a delivery the caller reads afterwards.
func (d *Dispatcher) attemptInto(ctx context.Context, c Channel, ev Event, raised time.Time, dl *Delivery) (time.Time, bool) {
	now := d.now()
	name := c.Name()
	d.mu.Lock()
	st := d.status[name]
	win := d.recent[name]
	for len(win) > 0 && now.Sub(win[0]) >= time.Hour {
		win = win[1:]
	}
	d.recent[name] = win
	limited := len(win) >= d.perHour
	if limited {
		st.Limited++
	}
	d.mu.Unlock()
	if limited {
		dl.NextTry = win[0].Add(time.Hour)
		if err := d.log.Update(ev.ID, *dl); err != nil {
			d.logger.Error("alerts: record a delivery", "alert", ev.ID, "channel", name, "err", err)
		}
		return dl.NextTry, true
	}
	err := c.Deliver(ctx, ev)
	if ctx.Err() != nil && err != nil {
		return time.Time{}, false // shutting down: the delivery stays due for the next start
	}
	now = d.now()
	dl.Attempts++
	d.mu.Lock()
	if err == nil {
		d.recent[name] = append(d.recent[name], now)
		st.Delivered++
		st.Failing, st.LastOK = false, now
	} else {
		st.Failed++
		st.Failing, st.LastError, st.LastErrorAt = true, err.Error(), now
	}
	d.mu.Unlock()
	pending := false
	switch {
	case err == nil:
		dl.DeliveredAt, dl.LastError, dl.NextTry = now, "", time.Time{}
		d.logger.Info("alert delivered", "alert", ev.ID, "channel", name, "attempts", dl.Attempts)
	case now.Sub(raised) >= GiveUpAfter && dl.Attempts > 1:
		dl.GaveUpAt, dl.LastError = now, err.Error()
		d.logger.Error("alert not delivered; giving up", "alert", ev.ID, "channel", name, "attempts", dl.Attempts, "err", err)
	default:
		dl.LastError, dl.NextTry = err.Error(), now.Add(Backoff(dl.Attempts))
		pending = true
		d.logger.Warn("alert not delivered; will retry", "alert", ev.ID, "channel", name, "attempts", dl.Attempts, "retry_at", dl.NextTry, "err", err)
	}
	if uerr := d.log.Update(ev.ID, *dl); uerr != nil {
		d.logger.Error("alerts: record a delivery", "alert", ev.ID, "channel", name, "err", uerr)
	}
	return dl.NextTry, pending
}

// ErrNoChannel is returned by Send for a channel name that is not configured.
var ErrNoChannel = errors.New("no such alert channel")

// Send raises ev on the named channels (all when names is empty) and makes one attempt
// on each at once, returning each delivery as recorded: what `alerts test` runs. A
// delivery that failed stays due and is retried like any other.
func (d *Dispatcher) Send(ctx context.Context, ev Event, names ...string) ([]Delivery, error) {
	var chans []Channel
	for _, c := range d.channels {
		if len(names) == 0 || slices.Contains(names, c.Name()) {
			chans = append(chans, c)
		}
	}
	for _, n := range names {
		if !slices.Contains(d.Channels(), n) {
			return nil, fmt.Errorf("%w %q (configured: %s)", ErrNoChannel, n, channelList(d.Channels()))
		}
	}
	if ev.At.IsZero() {
		ev.At = d.now()
	}
	var cnames []string
	for _, c := range chans {
		cnames = append(cnames, c.Name())
	}
	now := d.now()
	if _, err := d.log.Raise(ev, cnames, now); err != nil {
		return nil, err
	}
	out := make([]Delivery, len(chans))
	var wg sync.WaitGroup
	for i, c := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dl := Delivery{Channel: c.Name(), NextTry: now}
			d.attemptInto(ctx, c, ev, now, &dl)
			out[i] = dl
		}()
	}
	wg.Wait()
	return out, nil
}

func channelList(names []string) string {
	if len(names) == 0 {
		return "none; add an alerts section to the configuration"
	}
	return strings.Join(names, ", ")
}
