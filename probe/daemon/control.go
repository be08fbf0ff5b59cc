package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/alert"
	"supportprobe/store"
)

// Source is where the CLI reads history from: the running daemon or the file itself.
// Callers must call Close.
type Source interface {
	// Probes returns the probes matching f, oldest first, with their replies.
	Probes(ctx context.Context, f store.Filter) ([]probe.Probe, error)
	// Probe returns one probe with its replies, or an error wrapping store.ErrNotFound.
	Probe(ctx context.Context, id string) (probe.Probe, error)
	// Unmatched returns the mail no probe matched, detected at or after since.
	Unmatched(ctx context.Context, since time.Time) ([]store.Unmatched, error)
	// Mark records a person's decision about a reply's kind.
	Mark(ctx context.Context, replyID string, o probe.Override) (probe.Reply, error)
	// Link ties an inbound message to a probe by hand; a message that arrived before the
	// probe's inquiry was sent is an error wrapping store.ErrArrivedBefore unless o.Force.
	Link(ctx context.Context, messageID, probeID string, o store.LinkOptions) (probe.Reply, error)
	// Corrections returns the audit trail of corrections by hand (mark, link) that
	// concern probe probeID, or all of them when probeID is "", oldest first.
	Corrections(ctx context.Context, probeID string) ([]probe.Correction, error)
	// AuditLog returns the whole hash-chained audit log (corrections, reviews, reloads,
	// pauses), oldest first, unverified (probe.VerifyEntries checks it).
	AuditLog(ctx context.Context) ([]probe.Correction, error)
	// Raw returns a stored message as sent or fetched: kind is "inquiry" (id a probe),
	// "reply" or "unmatched"; a message not stored is an error wrapping store.ErrNotFound.
	Raw(ctx context.Context, kind, id string) (store.Raw, error)
	// Pauses returns the pauses set by hand for vendor ("" for all) that overlap
	// [since, until), by vendor, then start (AllPauses adds the configured windows).
	Pauses(ctx context.Context, vendor string, since, until time.Time) ([]probe.Pause, error)
	// SetPause pauses req.Vendor by hand from req.At, or changes the pause by hand in
	// force; the caller has checked that the vendor is in the configuration.
	SetPause(ctx context.Context, req PauseRequest) (probe.Pause, error)
	// Resume ends the pause by hand in force on req.Vendor at req.At; with none the
	// error wraps store.ErrNotPaused.
	Resume(ctx context.Context, req PauseRequest) (probe.Pause, error)
	// Via says which way the data comes, for messages: "daemon pid N" or the file path.
	Via() string
	Close() error
}

// markRequest and linkRequest are the bodies of POST /v1/mark and /v1/link.
type markRequest struct {
	Reply    string         `json:"reply"`
	Override probe.Override `json:"override"`
}

type linkRequest struct {
	MessageID string `json:"message_id"`
	Probe     string `json:"probe"`
	Note      string `json:"note"`
	By        string `json:"by,omitempty"`
	Force     bool   `json:"force,omitempty"`
}

// alertTestRequest is the body of POST /v1/alerts/test; an empty Channel means all.
type alertTestRequest struct {
	Channel string `json:"channel"`
}

type apiError struct {
	Error    string `json:"error"`
	NotFound bool   `json:"not_found,omitempty"`
	// ArrivedBefore: a link refused because the mail arrived before the inquiry was
	// sent (store.ErrArrivedBefore; HTTP 409).
	ArrivedBefore bool `json:"arrived_before,omitempty"`
	// Paused: a send by hand refused because the vendor is paused (ErrPaused; HTTP 409).
	Paused bool `json:"paused,omitempty"`
	// NotPaused: a resume of a vendor with no pause by hand in force (store.ErrNotPaused;
	// HTTP 409).
	NotPaused bool `json:"not_paused,omitempty"`
	// UnknownVendor: the vendor is not in the daemon's configuration (ErrUnknownVendor;
	// HTTP 404).
	UnknownVendor bool `json:"unknown_vendor,omitempty"`
}

// errorOf turns an error answer of the daemon back into an error that wraps the same
// sentinel (store.ErrNotFound, store.ErrArrivedBefore) as on the daemon's side.
func (e apiError) errorOf(prefix string) error {
	switch {
	case e.NotFound:
		// The daemon's text already says "not found"; wrap without repeating it.
		return wrapped{msg: e.Error, err: store.ErrNotFound}
	case e.ArrivedBefore:
		// The message already says it arrived before the inquiry; wrap without repeating.
		return wrapped{msg: prefix + e.Error, err: store.ErrArrivedBefore}
	case e.Paused:
		return wrapped{msg: e.Error, err: ErrPaused}
	case e.NotPaused:
		return wrapped{msg: e.Error, err: store.ErrNotPaused}
	case e.UnknownVendor:
		return wrapped{msg: e.Error, err: ErrUnknownVendor}
	}
	return errors.New(prefix + e.Error)
}

// wrapped is an error with its own text that still matches err with errors.Is.
type wrapped struct {
	msg string
	err error
}

func (w wrapped) Error() string { return w.msg }
func (w wrapped) Unwrap() error { return w.err }

func (d *Daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := d.status()
		if err != nil {
			// The parts read from the database are missing; the rest still helps.
			d.log.Warn("status: read the database", "err", err)
			st.Error = err.Error()
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /v1/reload", func(w http.ResponseWriter, r *http.Request) {
		res, err := d.Reload(r.Context())
		if err != nil && !res.OK && res.Error != "" {
			writeJSON(w, http.StatusUnprocessableEntity, res)
			return
		}
		writeResult(w, res, err)
	})
	mux.HandleFunc("GET /v1/probes", func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
			return
		}
		ps, err := d.db.Probes(f)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, ps)
	})
	mux.HandleFunc("GET /v1/probes/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, err := d.db.Probe(r.PathValue("id"))
		writeResult(w, p, err)
	})
	mux.HandleFunc("GET /v1/unmatched", func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
			return
		}
		um, err := d.db.UnmatchedMail(f.Since, time.Time{})
		writeResult(w, um, err)
	})
	mux.HandleFunc("GET /v1/raw/{kind}/{id}", func(w http.ResponseWriter, r *http.Request) {
		raw, err := rawOf(d.db, r.PathValue("kind"), r.PathValue("id"))
		writeResult(w, raw, err)
	})
	mux.HandleFunc("POST /v1/mark", func(w http.ResponseWriter, r *http.Request) {
		var req markRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "decode mark request: " + err.Error()})
			return
		}
		req.Override.By = askedBy(r.Context(), req.Override.By)
		rep, err := d.MarkReply(req.Reply, req.Override)
		writeResult(w, rep, err)
	})
	mux.HandleFunc("POST /v1/link", func(w http.ResponseWriter, r *http.Request) {
		var req linkRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "decode link request: " + err.Error()})
			return
		}
		rep, err := d.LinkMessage(req.MessageID, req.Probe, store.LinkOptions{By: askedBy(r.Context(), req.By), Note: req.Note, Force: req.Force})
		writeResult(w, rep, err)
	})
	mux.HandleFunc("GET /v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
			return
		}
		rs, err := d.db.Alerts().List(f.Since, 0)
		writeResult(w, rs, err)
	})
	mux.HandleFunc("POST /v1/alerts/test", func(w http.ResponseWriter, r *http.Request) {
		var req alertTestRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "decode alert test request: " + err.Error()})
			return
		}
		dl, err := d.TestAlert(r.Context(), req.Channel)
		if errors.Is(err, alert.ErrNoChannel) {
			writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
			return
		}
		writeResult(w, dl, err)
	})
	mux.HandleFunc("POST /v1/summary", func(w http.ResponseWriter, r *http.Request) {
		var req EmailRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "decode summary request: " + err.Error()})
			return
		}
		// The mail outlives a client that hangs up.
		res, err := d.EmailSummary(context.WithoutCancel(r.Context()), req)
		writeResult(w, res, err)
	})
	mux.HandleFunc("GET /v1/audit", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("log") == "all" {
			cs, err := d.db.AuditLog()
			writeResult(w, cs, err)
			return
		}
		cs, err := d.db.Corrections(r.URL.Query().Get("probe"))
		writeResult(w, cs, err)
	})
	mux.HandleFunc("POST /v1/send", func(w http.ResponseWriter, r *http.Request) {
		var req SendRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "decode send request: " + err.Error()})
			return
		}
		// The send outlives a client that hangs up: the probe is already recorded.
		p, err := d.Send(context.WithoutCancel(r.Context()), req)
		switch {
		case errors.Is(err, ErrUnknownVendor):
			writeJSON(w, http.StatusNotFound, apiError{Error: err.Error(), NotFound: true})
		case errors.Is(err, ErrPaused):
			writeJSON(w, http.StatusConflict, apiError{Error: err.Error(), Paused: true})
		case err != nil && p.ID == "":
			writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
		case err != nil:
			writeJSON(w, http.StatusBadGateway, sendResponse{Probe: p, Error: err.Error()})
		default:
			writeJSON(w, http.StatusOK, sendResponse{Probe: p})
		}
	})
	mux.HandleFunc("GET /v1/pauses", func(w http.ResponseWriter, r *http.Request) {
		f, err := filterFromQuery(r.URL.Query())
		if err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
			return
		}
		ps, err := d.db.Pauses(f.Vendor, f.Since, f.Until)
		writeResult(w, ps, err)
	})
	mux.HandleFunc("POST /v1/pause", func(w http.ResponseWriter, r *http.Request) {
		var req PauseRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "decode pause request: " + err.Error()})
			return
		}
		req.By = askedBy(r.Context(), req.By)
		p, err := d.SetPause(req)
		writeResult(w, p, err)
	})
	mux.HandleFunc("POST /v1/resume", func(w http.ResponseWriter, r *http.Request) {
		var req PauseRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "decode resume request: " + err.Error()})
			return
		}
		req.By = askedBy(r.Context(), req.By)
		p, err := d.Resume(req)
		writeResult(w, p, err)
	})
	return mux
}

// sendResponse carries the probe a send created, and the error when sending failed.
type sendResponse struct {
	Probe probe.Probe `json:"probe"`
	Error string      `json:"error,omitempty"`
}

// writeResult writes v, or err with the status that tells the client what happened.
func writeResult(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error(), NotFound: true})
	case errors.Is(err, store.ErrArrivedBefore):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error(), ArrivedBefore: true})
	case errors.Is(err, store.ErrNotPaused):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error(), NotPaused: true})
	case errors.Is(err, ErrUnknownVendor):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error(), UnknownVendor: true})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, apiError{Error: err.Error()})
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func filterFromQuery(q url.Values) (store.Filter, error) {
	f := store.Filter{Vendor: q.Get("vendor")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return f, fmt.Errorf("%s: %w", name, err)
			}
			*dst = t
		}
	}
	return f, nil
}

func filterToQuery(f store.Filter) url.Values {
	q := url.Values{}
	if f.Vendor != "" {
		q.Set("vendor", f.Vendor)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	return q
}

// ErrNotRunning means no daemon answers on the state directory's control socket.
var ErrNotRunning = errors.New("no daemon is running")

// Client talks to a running daemon over its control socket. It implements Source.
type Client struct {
	http     *http.Client
	stateDir string
	pid      int
}

// Dial connects to the daemon of stateDir and asks for its status, within a few
// seconds. It returns an error wrapping ErrNotRunning when no socket exists or nobody
// listens on it.
func Dial(ctx context.Context, stateDir string) (*Client, error) {
	sock := SocketPath(stateDir)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	c := &Client{stateDir: stateDir, http: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", sock)
		}},
	}}
	var st Status
	if err := c.get(ctx, "/v1/status", nil, &st); err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("control socket %s: %w", sock, ErrNotRunning)
		}
		if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("control socket %s: permission denied: run this command as the daemon's user (the owner of %s), "+
				"or set control.group in the configuration and add yourself to that group", sock, stateDir)
		}
		return nil, fmt.Errorf("control socket %s: %w", sock, err)
	}
	c.pid = st.PID
	return c, nil
}

func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	u := "http://supportprobe" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return fmt.Errorf("daemon answered %s", resp.Status)
		}
		return e.errorOf("")
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Probes implements Source.
func (c *Client) Probes(ctx context.Context, f store.Filter) ([]probe.Probe, error) {
	var ps []probe.Probe
	err := c.get(ctx, "/v1/probes", filterToQuery(f), &ps)
	return ps, err
}

// Probe implements Source.
func (c *Client) Probe(ctx context.Context, id string) (probe.Probe, error) {
	var p probe.Probe
	err := c.get(ctx, "/v1/probes/"+url.PathEscape(id), nil, &p)
	return p, err
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://supportprobe"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("daemon pid %d: %w", c.pid, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return fmt.Errorf("daemon pid %d answered %s", c.pid, resp.Status)
		}
		return e.errorOf(fmt.Sprintf("daemon pid %d: ", c.pid))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Raw implements Source.
func (c *Client) Raw(ctx context.Context, kind, id string) (store.Raw, error) {
	var raw store.Raw
	err := c.get(ctx, "/v1/raw/"+url.PathEscape(kind)+"/"+url.PathEscape(id), nil, &raw)
	return raw, err
}

// Unmatched implements Source.
func (c *Client) Unmatched(ctx context.Context, since time.Time) ([]store.Unmatched, error) {
	var um []store.Unmatched
	err := c.get(ctx, "/v1/unmatched", filterToQuery(store.Filter{Since: since}), &um)
	return um, err
}

// Mark implements Source.
func (c *Client) Mark(ctx context.Context, replyID string, o probe.Override) (probe.Reply, error) {
	var r probe.Reply
	err := c.post(ctx, "/v1/mark", markRequest{Reply: replyID, Override: o}, &r)
	return r, err
}

// Link implements Source.
func (c *Client) Link(ctx context.Context, messageID, probeID string, o store.LinkOptions) (probe.Reply, error) {
	var r probe.Reply
	err := c.post(ctx, "/v1/link", linkRequest{MessageID: messageID, Probe: probeID, Note: o.Note, By: o.By, Force: o.Force}, &r)
	return r, err
}

// Corrections implements Source.
func (c *Client) Corrections(ctx context.Context, probeID string) ([]probe.Correction, error) {
	var cs []probe.Correction
	q := url.Values{}
	if probeID != "" {
		q.Set("probe", probeID)
	}
	err := c.get(ctx, "/v1/audit", q, &cs)
	return cs, err
}

// AuditLog implements Source.
func (c *Client) AuditLog(ctx context.Context) ([]probe.Correction, error) {
	var cs []probe.Correction
	err := c.get(ctx, "/v1/audit", url.Values{"log": {"all"}}, &cs)
	return cs, err
}

// Send asks the daemon to send one probe now and returns it. When the inquiry could
// not be sent the probe comes back too (stored as failed) with an error; an unknown
// vendor or script is an error wrapping store.ErrNotFound.
func (c *Client) Send(ctx context.Context, req SendRequest) (probe.Probe, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return probe.Probe{}, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://supportprobe/v1/send", bytes.NewReader(body))
	if err != nil {
		return probe.Probe{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	// Retries within the SMTP retry window can take minutes: no client timeout here.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(hreq)
	if err != nil {
		return probe.Probe{}, fmt.Errorf("daemon pid %d: send: %w", c.pid, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var sr sendResponse
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadGateway {
		if err := json.Unmarshal(data, &sr); err != nil {
			return probe.Probe{}, fmt.Errorf("daemon pid %d: send: bad answer: %w", c.pid, err)
		}
		if sr.Error != "" {
			return sr.Probe, errors.New(sr.Error)
		}
		return sr.Probe, nil
	}
	var e apiError
	json.Unmarshal(data, &e)
	if e.NotFound {
		return probe.Probe{}, e.errorOf("")
	}
	if e.Paused {
		return probe.Probe{}, e.errorOf("")
	}
	return probe.Probe{}, fmt.Errorf("daemon pid %d: send: %s", c.pid, e.Error)
}

// Status asks the daemon for its status (GET /v1/status).
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.get(ctx, "/v1/status", nil, &st)
	return st, err
}

// Reload asks the daemon to read its configuration file again (POST /v1/reload). A file
// the daemon refused comes back as the result, which says why, and an error wrapping
// ErrReloadRefused.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://supportprobe/v1/reload", nil)
	if err != nil {
		return ReloadResult{}, err
	}
	// A reload waits for the scheduler it replaces, whose sends may take a while.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return ReloadResult{}, fmt.Errorf("daemon pid %d: reload: %w", c.pid, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var res ReloadResult
	switch resp.StatusCode {
	case http.StatusOK, http.StatusUnprocessableEntity:
		if err := json.Unmarshal(data, &res); err != nil {
			return res, fmt.Errorf("daemon pid %d: reload: bad answer: %w", c.pid, err)
		}
		if !res.OK {
			return res, fmt.Errorf("daemon pid %d: %w: %s; the daemon keeps the configuration loaded at %s",
				c.pid, ErrReloadRefused, res.Error, res.InForceSince.Format(time.RFC3339))
		}
		return res, nil
	}
	var e apiError
	json.Unmarshal(data, &e)
	return res, fmt.Errorf("daemon pid %d: reload: %s (%s)", c.pid, cmpOr(e.Error, "no reason given"), resp.Status)
}

// PID returns the daemon's process id.
func (c *Client) PID() int { return c.pid }

// Pauses implements Source.
func (c *Client) Pauses(ctx context.Context, vendor string, since, until time.Time) ([]probe.Pause, error) {
	var ps []probe.Pause
	err := c.get(ctx, "/v1/pauses", filterToQuery(store.Filter{Vendor: vendor, Since: since, Until: until}), &ps)
	return ps, err
}

// SetPause implements Source.
func (c *Client) SetPause(ctx context.Context, req PauseRequest) (probe.Pause, error) {
	var p probe.Pause
	err := c.post(ctx, "/v1/pause", req, &p)
	return p, err
}

// Resume implements Source.
func (c *Client) Resume(ctx context.Context, req PauseRequest) (probe.Pause, error) {
	var p probe.Pause
	err := c.post(ctx, "/v1/resume", req, &p)
	return p, err
}

// Via implements Source.
func (c *Client) Via() string { return fmt.Sprintf("daemon pid %d", c.pid) }

// Close implements Source.
func (c *Client) Close() error { c.http.CloseIdleConnections(); return nil }

// local reads the database file directly; it implements Source.
type local struct{ db *store.DB }

func (l local) Probes(_ context.Context, f store.Filter) ([]probe.Probe, error) {
	return l.db.Probes(f)
}
func (l local) Probe(_ context.Context, id string) (probe.Probe, error) { return l.db.Probe(id) }
func (l local) Unmatched(_ context.Context, since time.Time) ([]store.Unmatched, error) {
	return l.db.UnmatchedMail(since, time.Time{})
}
func (l local) Mark(_ context.Context, id string, o probe.Override) (probe.Reply, error) {
	return l.db.SetOverride(id, o)
}
func (l local) Link(_ context.Context, messageID, probeID string, o store.LinkOptions) (probe.Reply, error) {
	return l.db.Link(messageID, probeID, o)
}
func (l local) Corrections(_ context.Context, probeID string) ([]probe.Correction, error) {
	return l.db.Corrections(probeID)
}
func (l local) AuditLog(context.Context) ([]probe.Correction, error) {
	return l.db.AuditLog()
}
func (l local) Raw(_ context.Context, kind, id string) (store.Raw, error) {
	return rawOf(l.db, kind, id)
}
func (l local) Pauses(_ context.Context, vendor string, since, until time.Time) ([]probe.Pause, error) {
	return l.db.Pauses(vendor, since, until)
}
func (l local) SetPause(_ context.Context, req PauseRequest) (probe.Pause, error) {
	return setPause(l.db, req)
}
func (l local) Resume(_ context.Context, req PauseRequest) (probe.Pause, error) {
	return resume(l.db, req)
}
func (l local) Via() string  { return l.db.Path() }
func (l local) Close() error { return l.db.Close() }

// empty stands in for a database that does not exist yet.
type empty struct{ path string }

func (e empty) Probes(context.Context, store.Filter) ([]probe.Probe, error) { return nil, nil }
func (e empty) Probe(_ context.Context, id string) (probe.Probe, error) {
	return probe.Probe{}, fmt.Errorf("probe %s: %w (no database at %s yet)", id, store.ErrNotFound, e.path)
}
func (e empty) Unmatched(context.Context, time.Time) ([]store.Unmatched, error) { return nil, nil }
func (e empty) Mark(_ context.Context, id string, _ probe.Override) (probe.Reply, error) {
	return probe.Reply{}, fmt.Errorf("reply %s: %w (no database at %s yet)", id, store.ErrNotFound, e.path)
}
func (e empty) Corrections(context.Context, string) ([]probe.Correction, error) { return nil, nil }
func (e empty) AuditLog(context.Context) ([]probe.Correction, error)            { return nil, nil }
func (e empty) Link(_ context.Context, messageID, _ string, _ store.LinkOptions) (probe.Reply, error) {
	return probe.Reply{}, fmt.Errorf("message %s: %w (no database at %s yet)", messageID, store.ErrNotFound, e.path)
}
func (e empty) Raw(_ context.Context, kind, id string) (store.Raw, error) {
	return store.Raw{}, fmt.Errorf("raw %s %s: %w (no database at %s yet)", kind, id, store.ErrNotFound, e.path)
}
func (e empty) Pauses(context.Context, string, time.Time, time.Time) ([]probe.Pause, error) {
	return nil, nil
}
func (e empty) SetPause(context.Context, PauseRequest) (probe.Pause, error) {
	return probe.Pause{}, fmt.Errorf("pause: no database at %s yet; open it for writing (OpenSource with write set) to pause", e.path)
}
func (e empty) Resume(_ context.Context, req PauseRequest) (probe.Pause, error) {
	return probe.Pause{}, fmt.Errorf("resume vendor %s: %w (no database at %s yet)", req.Vendor, store.ErrNotPaused, e.path)
}
func (e empty) Via() string  { return e.path + " (not created yet)" }
func (e empty) Close() error { return nil }

// rawOf reads a stored message of kind "inquiry", "reply" or "unmatched".
func rawOf(db *store.DB, kind, id string) (store.Raw, error) {
	switch kind {
	case "inquiry":
		return db.InquiryRaw(id)
	case "reply":
		return db.ReplyRaw(id)
	case "unmatched":
		return db.UnmatchedRaw(id)
	}
	return store.Raw{}, fmt.Errorf("raw message kind %q: want inquiry, reply or unmatched", kind)
}

// NotCreated reports whether src stands for a database that does not exist yet.
func NotCreated(src Source) bool { _, ok := src.(empty); return ok }

// OpenSource returns the way to reach stateDir's history: the running daemon when one
// answers on the control socket, else the database file (read-only unless write is set:
// mark and link write), else (no file yet) an empty history. Errors name the socket or
// the file; a writer that finds the file locked gets store.ErrLocked after 2 s.
func OpenSource(ctx context.Context, stateDir string, write bool) (Source, error) {
	c, err := Dial(ctx, stateDir)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, ErrNotRunning) {
		return nil, err
	}
	path := DatabasePath(stateDir)
	db, err := store.Open(path, store.Options{ReadOnly: !write, LockTimeout: 2 * time.Second})
	if errors.Is(err, store.ErrNoDatabase) {
		return empty{path: path}, nil
	}
	if err != nil {
		return nil, err
	}
	return local{db: db}, nil
}

// AlertLog returns the daemon's alert log since the given time, newest first.
func (c *Client) AlertLog(ctx context.Context, since time.Time) ([]alert.Record, error) {
	var rs []alert.Record
	err := c.get(ctx, "/v1/alerts", filterToQuery(store.Filter{Since: since}), &rs)
	return rs, err
}

// TestAlert makes the daemon send a test alert on channel ("" for every channel) and
// returns each delivery's outcome.
func (c *Client) TestAlert(ctx context.Context, channel string) ([]alert.Delivery, error) {
	var dl []alert.Delivery
	err := c.post(ctx, "/v1/alerts/test", alertTestRequest{Channel: channel}, &dl)
	return dl, err
}

// EmailSummary asks the daemon to mail the summary of a period now (POST /v1/summary).
func (c *Client) EmailSummary(ctx context.Context, req EmailRequest) (EmailResult, error) {
	var res EmailResult
	err := c.post(ctx, "/v1/summary", req, &res)
	return res, err
}
