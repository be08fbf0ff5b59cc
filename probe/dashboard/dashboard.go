// Package dashboard serves the local web dashboard on the daemon's http listener:
// server-side rendered pages built with html/template from templates embedded in the
// binary, one same-origin stylesheet, no script and no external resource, so it works
// offline and under a strict Content-Security-Policy.
//
// The addresses are a contract (other tools link to them; extend, never rename):
//
//	/                 overview: one row per vendor
//	/vendors/NAME     one vendor: latency chart, hour-of-week heatmap, probe table
//	/probes/ID        one probe: its timeline and the new text of each reply
//	/review           replies waiting for a person's decision (read-only)
//	/unmatched        inbound mail that matched no probe (read-only)
//
// Each answers ?format=json with the same figures as JSON. The overview and vendor
// pages take ?period=7d|week|lastweek|all|custom (custom with since and until, a date
// or an RFC 3339 time); the vendor page's probe table takes status, priority, script,
// language (filters) and sort, dir (order) parameters, so it needs no script.
//
// Every figure comes from probe/report (report.Build) and probe/view (view.NewRecord),
// the code behind `report` and `show`, so the dashboard and the CLI never disagree.
// Vendor-controlled strings (From, Subject, the text of replies) reach the page only
// through html/template, which escapes them for their context; nothing is ever marked
// template.HTML. Deciding a review item or linking unmatched mail from the page is a
// later step (it needs a per-session CSRF token); until then the pages say which
// command does it.
package dashboard

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
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
	// Log receives errors that reach the user as a 500; default discards.
	Log *slog.Logger
}

// The windows of the lists, the defaults of the commands that print the same things:
// `review` lists replies of probes created in the last 90 days, `inbox --unmatched`
// the mail detected in the last 30 days (and the daemon's gauges count the same).
const (
	ReviewDays    = review.Days
	UnmatchedDays = 30
)

// ContentSecurityPolicy is sent with every response: nothing but same-origin
// resources, no script at all, no inline style (the stylesheet is a file), no framing,
// forms submit only here.
const ContentSecurityPolicy = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed templates/*.tmpl
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Handler serves the dashboard. Create it with New; it is safe for concurrent use.
type Handler struct {
	db    Store
	opts  Options
	pages map[string]*template.Template
	mux   *http.ServeMux
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
	h := &Handler{db: db, opts: opts, pages: map[string]*template.Template{}}
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
	mux.HandleFunc("GET /review", h.review)
	mux.HandleFunc("GET /unmatched", h.unmatched)
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
}

// respond writes data as JSON or renders the named page with it. Rendering goes to a
// buffer first, so a template error becomes a clean 500.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, name, title string, data any) {
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
	var buf strings.Builder
	if err := h.pages[name].Execute(&buf, page{Title: title, Nav: name, Now: h.opts.Now(), Data: data, Request: r}); err != nil {
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
	if terr := h.pages["error"].Execute(&buf, page{Title: http.StatusText(code), Now: h.opts.Now(), Data: map[string]any{"Code": code, "Message": msg}, Request: r}); terr != nil {
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
