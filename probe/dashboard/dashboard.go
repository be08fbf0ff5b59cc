// Package dashboard serves the local web dashboard on the daemon's http listener:
// server-side rendered pages built with html/template from templates embedded in the
// binary, one same-origin stylesheet and one same-origin script (live updates), no
// external resource, so it works offline and under a strict Content-Security-Policy.
//
// The addresses are a contract (other tools link to them; extend, never rename):
//
//	/                          overview: one row per vendor
//	/vendors/NAME              one vendor: latency chart, hour-of-week heatmap, probe table
//	/probes/ID                 one probe: its timeline and the new text of each reply
//	/probes/ID/evidence.zip    that probe's signed evidence archive (as export --probe)
//	/review                    replies waiting for a person's decision
//	/unmatched                 inbound mail that matched no probe
//	/live                      the store's version, for the pages' live updates
//	POST /review/REPLY         decide a reply's kind (kind, note, csrf)
//	POST /unmatched/ID/link    link unmatched mail to a probe (probe, note, force, csrf)
//
// Each page answers ?format=json with the same figures as JSON. The overview and vendor
// pages take ?period=7d|week|lastweek|all|custom (custom with since and until, a date
// or an RFC 3339 time); the vendor page's probe table takes status, priority, script,
// language (filters) and sort, dir (order) parameters, so it needs no script. Every page
// takes ?tz=utc or ?tz=vendor (times in UTC alone, or in the vendor's zone with UTC
// beside), remembered in a cookie.
//
// Every figure comes from probe/report (report.Build), probe/view (view.NewRecord) and
// probe/review (review.Items), the code behind `report`, `show` and `review`, so the
// dashboard and the CLI never disagree. Vendor-controlled strings (From, Subject, the
// text of replies) reach the page only through html/template, which escapes them for
// their context; nothing is ever marked template.HTML.
//
// The dashboard is read-only unless the configuration says dashboard.read_only: false;
// decide.go says what a write must then carry, and live.go how pages update.
package dashboard

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/review"
	"supportprobe/store"
)

// Store is what the dashboard reads. *store.DB implements it; the daemon hands in the
// database it owns.
type Store interface {
	// Probes returns the probes matching f, oldest first, with their replies.
	Probes(f store.Filter) ([]probe.Probe, error)
	// Probe returns one probe with its replies; store.ErrNotFound when there is none.
	Probe(id string) (probe.Probe, error)
	// UnmatchedMail returns the unmatched mail detected in [since, until).
	UnmatchedMail(since, until time.Time) ([]store.Unmatched, error)
	// ReplyRaw returns a reply's stored message; store.ErrNotFound when not stored.
	ReplyRaw(id string) (store.Raw, error)
	// Corrections returns the corrections by hand that concern a probe, oldest first.
	Corrections(probeID string) ([]probe.Correction, error)
}

var _ Store = (*store.DB)(nil)

// Options configures a Handler.
type Options struct {
	// Now is the clock the figures are computed at; default time.Now.
	Now func() time.Time
	// Location is the zone of the weeks of ?period=week and lastweek (the summary's
	// zone, as `report --week` uses) and of custom dates; default UTC.
	Location *time.Location
	// Log receives errors that reach the user as a 500, and each decision made on the
	// page; default discards.
	Log *slog.Logger
	// ReadOnly reports whether the configuration forbids decisions from the page
	// (dashboard.read_only); it is asked at each request, so a reload applies. Nil, or a
	// nil Decider, keeps the dashboard read-only.
	ReadOnly func() bool
	// Decider records the decisions made on /review and /unmatched.
	Decider Decider
	// User returns the user the listener authenticated r as ("alice", or "bearer token
	// SHA256:…"); nil when the listener has no authentication. When set, a write whose
	// user is "" is refused.
	User func(r *http.Request) string
	// Evidence writes the signed evidence archive of one probe (as `export --probe ID`
	// does) to w; nil hides the download link.
	Evidence func(ctx context.Context, probeID string, w io.Writer) error
	// Pauses returns the pauses (set by hand or configured) of vendor that overlap
	// [since, until), for the overview's paused state; nil shows none.
	Pauses func(vendor string, since, until time.Time) ([]probe.Pause, error)
	// Version returns a value that changes whenever the store does (a new reply, a
	// decision, a status written); the pages' script polls it (GET /live) and refreshes
	// when it moves. Nil: the pages refresh only at the next time-driven change.
	Version func() (string, error)
}

// The windows of the lists, the defaults of the commands that print the same things:
// `review` lists replies of probes created in the last 90 days, `inbox --unmatched`
// the mail detected in the last 30 days (and the daemon's gauges count the same).
const (
	ReviewDays    = review.Days
	UnmatchedDays = 30
)

// ContentSecurityPolicy is sent with every response: nothing but same-origin
// resources, script only from the dashboard's own file (static/live.js; no inline
// script, no eval), no inline style (the stylesheet is a file), no framing, forms
// submit only here.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed templates/*.tmpl
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Handler serves the dashboard. Create it with New; it is safe for concurrent use.
type Handler struct {
	db      Store
	opts    Options
	pages   map[string]*template.Template
	mux     *http.ServeMux
	csrfKey [32]byte
	origin  *http.CrossOriginProtection
	// overviews keeps the overview's figures between requests (overview.go).
	overviews overviewCache
}

// New returns the dashboard over db. It panics only if the embedded templates do not
// parse, which the package's tests rule out.
func New(db Store, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{db: db, opts: opts, pages: map[string]*template.Template{}, origin: http.NewCrossOriginProtection()}
	h.overviews = overviewCache{kept: map[string]*overviewFigures{}, building: map[string]*overviewBuild{}}
	rand.Read(h.csrfKey[:]) // never fails (crypto/rand)
	for _, name := range []string{"overview", "vendor", "probe", "review", "unmatched", "error"} {
		h.pages[name] = template.Must(template.New("layout.tmpl").Funcs(funcs).ParseFS(templateFS, "templates/layout.tmpl", "templates/"+name+".tmpl"))
	}
	h.mux = http.NewServeMux()
	h.Register(h.mux)
	return h
}

// Register adds the dashboard's routes to mux: the addresses in the package doc and
// /static/ for the stylesheet. "/" is registered as exactly the root ("GET /{$}"), so
// the mux's other routes (/metrics, /healthz) and its 404s are left alone.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.overview)
	mux.HandleFunc("GET /vendors/{name}", h.vendor)
	mux.HandleFunc("GET /probes/{id}", h.probe)
	mux.HandleFunc("GET /probes/{id}/evidence.zip", h.evidence)
	mux.HandleFunc("GET /review", h.review)
	mux.HandleFunc("GET /unmatched", h.unmatched)
	mux.HandleFunc("GET /live", h.live)
	mux.HandleFunc("POST /review/{reply}", h.decideReview)
	mux.HandleFunc("POST /unmatched/{id}/link", h.linkUnmatched)
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	mux.Handle("GET /static/", headers(files))
}

// ServeHTTP serves the dashboard's routes alone (for tests and embedding).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// headers wraps a handler with the security headers every response carries.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w)
		next.ServeHTTP(w, r)
	})
}

func setSecurityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
}

// errBadRequest marks errors caused by the request (a bad query parameter).
var errBadRequest = errors.New("bad request")

// wantsJSON reports whether the request asked for ?format=json; another format than
// html or json is a bad request.
func wantsJSON(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "html":
		return false, nil
	case "json":
		return true, nil
	default:
		return false, fmt.Errorf("%w: format %q: want html or json (?format=json)", errBadRequest, f)
	}
}

// page is what every template receives: the layout's fields and the page's data.
type page struct {
	Title   string
	Nav     string // which navigation entry is current
	Now     time.Time
	Data    any
	Request *http.Request
	// Writable: the forms that decide are shown; CSRF is their token.
	Writable bool
	CSRF     string
	// UTC: times are shown in UTC alone rather than in the vendor's zone.
	UTC bool
	// Version is the store's version when the page was rendered; RefreshAt the next
	// instant its figures change by time alone (zero: none). See live.go.
	Version   string
	RefreshAt time.Time
}

// Time formats t in zone (the vendor's, UTC beside), or in UTC alone when the person
// chose UTC.
func (p page) Time(t any, zone string) string {
	if p.UTC {
		zone = ""
	}
	return timeIn(t, zone)
}

// TZLink is the address of this page with times in mode ("utc" or "vendor").
func (p page) TZLink(mode string) string { return withQuery(p.Request, "tz", mode) }

// RefreshAtAttr is RefreshAt for the data-refresh-at attribute: RFC 3339, "" for none.
func (p page) RefreshAtAttr() string {
	if p.RefreshAt.IsZero() {
		return ""
	}
	return p.RefreshAt.UTC().Format(time.RFC3339)
}

// respond writes data as JSON or renders the named page with it. Rendering goes to a
// buffer first, so a template error becomes a clean 500.
//
// next is the next instant the page's figures change by time alone (zero: none), for
// the live script.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, name, title string, data any, next time.Time) {
	h.respondAt(w, r, name, title, data, next, h.version(), h.opts.Now())
}

// respondAt is respond for figures computed at computed (the footer's "computed at")
// from the store as it was at version, the version the page carries for the live
// script: read before the figures, so a write made while they were computed moves the
// store past the page's version, and the page is fetched again.
func (h *Handler) respondAt(w http.ResponseWriter, r *http.Request, name, title string, data any, next time.Time, version string, computed time.Time) {
	setSecurityHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	asJSON, err := wantsJSON(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if asJSON {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(data); err != nil {
			h.opts.Log.Debug("dashboard: write json", "path", r.URL.Path, "err", err)
		}
		return
	}
	pg := page{Title: title, Nav: name, Now: computed, Data: data, Request: r, Writable: h.writable(),
		UTC: utcOnly(w, r), Version: version, RefreshAt: next}
	if pg.Writable {
		pg.CSRF = h.csrfToken(h.session(w, r))
	}
	var buf strings.Builder
	if err := h.pages[name].Execute(&buf, pg); err != nil {
		h.fail(w, r, fmt.Errorf("render page %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if _, err := w.Write([]byte(buf.String())); err != nil {
		h.opts.Log.Debug("dashboard: write page", "path", r.URL.Path, "err", err)
	}
}

// fail answers with the error: 400 for a bad parameter, 404 for an unknown probe or
// vendor, 500 otherwise (logged). JSON requests get {"error": ...}.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	setSecurityHeaders(w)
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, errBadRequest):
		code = http.StatusBadRequest
	case errors.Is(err, errForbidden):
		code = http.StatusForbidden
		h.opts.Log.Warn("dashboard: write refused", "path", r.URL.Path, "ip", r.RemoteAddr, "err", err)
	case errors.Is(err, errConflict):
		code = http.StatusConflict
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errNoVendor):
		code = http.StatusNotFound
	default:
		h.opts.Log.Error("dashboard: request failed", "path", r.URL.Path, "err", err)
	}
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "supportprobe cannot show " + r.URL.Path + ": " + msg + "; see the daemon's log"
	}
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	var buf strings.Builder
	if terr := h.pages["error"].Execute(&buf, page{Title: http.StatusText(code), Now: h.opts.Now(), Data: map[string]any{"Code": code, "Message": msg}, Request: r, UTC: utcOnly(w, r)}); terr != nil {
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(buf.String()))
}

// errNoVendor is returned for a vendor with no probe at all.
var errNoVendor = errors.New("no such vendor")

// link builds a dashboard address with a query, keeping only non-empty values.
func link(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
