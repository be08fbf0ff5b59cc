package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"supportprobe/probe"
	"supportprobe/probe/review"
	"supportprobe/store"
)

// Decisions from the page. A write is let through only when all of these hold, checked
// in this order, each refusal a 403 that says which failed:
//
//   - the configuration allows it (dashboard.read_only: false; Options.ReadOnly);
//   - the request is same-origin (http.CrossOriginProtection: Sec-Fetch-Site, else
//     Origin against Host; another port on 127.0.0.1 is another origin);
//   - it carries the session cookie and, in the form field csrf, the token derived from
//     it (an HMAC with a key made when the handler is, compared in constant time), so a
//     cookie planted by another service on the same host is worth nothing without the
//     key;
//   - with authentication on the listener (Options.User set), the request's user is
//     known.
//
// The decision then goes through Options.Decider, which the daemon backs with the code
// of POST /v1/mark and /v1/link, the commands' own path: the reply's override or the
// link is stored and appended to the audit log with By (who) and the note, and the
// follow-ups are woken.

// Decider records decisions made on the page. The daemon implements it with the code
// behind `supportprobe mark`, `review` and `link`.
type Decider interface {
	// Mark records a person's decision about a reply's kind (store.DB.SetOverride).
	Mark(replyID string, o probe.Override) (probe.Reply, error)
	// Link ties an inbound message (an unmatched mail's "U1") to a probe by hand
	// (store.DB.Link).
	Link(ref, probeID string, o store.LinkOptions) (probe.Reply, error)
}

// sessionCookie holds the random session id the CSRF token is derived from.
const sessionCookie = "supportprobe_session"

// noteLimit bounds a decision's note, in bytes.
const noteLimit = 2000

// errForbidden marks a refused write.
var errForbidden = errors.New("forbidden")

// writable reports whether the configuration allows decisions from the page.
func (h *Handler) writable() bool {
	return h.opts.Decider != nil && h.opts.ReadOnly != nil && !h.opts.ReadOnly()
}

// session returns the request's session id, making one (and setting its cookie on w)
// when it has none. The cookie is HttpOnly and SameSite=Strict, Secure over TLS.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) >= 26 {
		return c.Value
	}
	id := rand.Text() // 26 base32 characters, 128 random bits
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return id
}

// csrfToken derives the form token of session id.
func (h *Handler) csrfToken(session string) string {
	m := hmac.New(sha256.New, h.csrfKey[:])
	m.Write([]byte("supportprobe dashboard csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkWrite applies the checks of a write (see above) and returns who decides, as the
// audit entry's By.
func (h *Handler) checkWrite(r *http.Request) (string, error) {
	if !h.writable() {
		return "", fmt.Errorf("%w: the dashboard is read-only: set dashboard.read_only: false in the configuration and reload the daemon (supportprobe reload), or decide with the command the page names", errForbidden)
	}
	if err := h.origin.Check(r); err != nil {
		return "", fmt.Errorf("%w: a cross-site request may not change anything (%v); decide from the dashboard's own page", errForbidden, err)
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", fmt.Errorf("%w: no session cookie: load the page again and resubmit (the browser must keep cookies for this address)", errForbidden)
	}
	given := r.PostFormValue("csrf")
	if given == "" || !hmac.Equal([]byte(given), []byte(h.csrfToken(c.Value))) {
		return "", fmt.Errorf("%w: the form's CSRF token is missing or not this session's (the daemon may have restarted): load the page again and resubmit", errForbidden)
	}
	who := "dashboard (no login: loopback listener)"
	if h.opts.User != nil {
		u := h.opts.User(r)
		if u == "" {
			return "", fmt.Errorf("%w: the listener requires a login and this request's user is not known; log in again", errForbidden)
		}
		who = u + " (dashboard)"
	}
	return who, nil
}

// formNote reads and checks the form's note: a decision says why.
func formNote(r *http.Request) (string, error) {
	note := strings.TrimSpace(r.PostFormValue("note"))
	switch {
	case note == "":
		return "", fmt.Errorf("%w: a note is required: say why, for the audit log", errBadRequest)
	case len(note) > noteLimit || !utf8.ValidString(note):
		return "", fmt.Errorf("%w: the note must be valid text of at most %d bytes", errBadRequest, noteLimit)
	}
	return note, nil
}

// decideReview handles POST /review/{reply}: kind and note decide the reply's kind.
func (h *Handler) decideReview(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	by, err := h.checkWrite(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	replyID := r.PathValue("reply")
	kind, err := review.ParseKind(r.PostFormValue("kind"))
	if err != nil {
		h.fail(w, r, fmt.Errorf("%w: reply %s: %v", errBadRequest, replyID, err))
		return
	}
	note, err := formNote(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rep, err := h.opts.Decider.Mark(replyID, probe.Override{Kind: kind, Note: note, At: h.opts.Now().UTC(), By: by})
	if err != nil {
		h.fail(w, r, fmt.Errorf("decide reply %s as %s: %w", replyID, kind, err))
		return
	}
	h.opts.Log.Info("dashboard: reply decided", "reply", rep.ID, "probe", rep.ProbeID, "kind", kind, "by", by)
	http.Redirect(w, r, link(probePath(rep.ProbeID), "decided", rep.ID)+"#"+rep.ID, http.StatusSeeOther)
}

// linkUnmatched handles POST /unmatched/{id}/link: probe and note tie the message to
// a probe; force links mail that arrived before the inquiry was sent.
func (h *Handler) linkUnmatched(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	by, err := h.checkWrite(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ref := r.PathValue("id")
	probeID := strings.ToUpper(strings.TrimSpace(r.PostFormValue("probe")))
	if probeID == "" {
		h.fail(w, r, fmt.Errorf("%w: link %s: name the probe to link it to (its ID, e.g. P17)", errBadRequest, ref))
		return
	}
	note, err := formNote(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rep, err := h.opts.Decider.Link(ref, probeID, store.LinkOptions{By: by, Note: note, Force: r.PostFormValue("force") == "on"})
	if err != nil {
		if errors.Is(err, store.ErrArrivedBefore) {
			err = fmt.Errorf("%w: %w; tick \"arrived before the inquiry: link anyway\" to link it all the same (it will count for nothing)", errConflict, err)
		}
		h.fail(w, r, err)
		return
	}
	h.opts.Log.Info("dashboard: message linked", "message", ref, "reply", rep.ID, "probe", rep.ProbeID, "by", by)
	http.Redirect(w, r, link(probePath(rep.ProbeID), "decided", rep.ID)+"#"+rep.ID, http.StatusSeeOther)
}

// errConflict marks a write refused because of the state of the data (HTTP 409).
var errConflict = errors.New("conflict")
