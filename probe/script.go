package probe

import (
	"fmt"
	"maps"
	"strings"
	"text/template"
	"time"
)

// Script is one scripted inquiry: a subject and body written as text/template, in a
// declared language, at a priority. Build one with NewScript, which checks the templates.
type Script struct {
	ID       string
	Language string
	Priority Priority
	Vars     map[string]string
	subject  *template.Template
	body     *template.Template
	source   [2]string
}

// Fields are the values a script's templates may use besides its own vars.
type Fields struct {
	Vendor    string    // the vendor's name
	Token     string    // the probe's short reference code
	LocalTime time.Time // the send time in the vendor's zone
}

// builtinFields are the names Fields provides to templates.
var builtinFields = []string{"Vendor", "Token", "LocalTime"}

// NewScript parses subject and body as text/template and executes both once with sample
// values, so a template that names an unknown field or fails fails here, at configuration
// load, rather than at the 3 a.m. run. Vars may not redefine a built-in field.
func NewScript(id, language string, priority Priority, subject, body string, vars map[string]string) (Script, error) {
	for _, name := range builtinFields {
		if _, ok := vars[name]; ok {
			return Script{}, fmt.Errorf("vars: %q is a built-in field and cannot be redefined", name)
		}
	}
	s := Script{ID: id, Language: language, Priority: priority, Vars: maps.Clone(vars), source: [2]string{subject, body}}
	var err error
	if s.subject, err = template.New("subject").Option("missingkey=error").Parse(subject); err != nil {
		return Script{}, fmt.Errorf("subject: %w", err)
	}
	if s.body, err = template.New("body").Option("missingkey=error").Parse(body); err != nil {
		return Script{}, fmt.Errorf("body: %w", err)
	}
	if _, _, err := s.Render(Fields{Vendor: "sample-vendor", Token: "SAMPLE1", LocalTime: time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)}); err != nil {
		return Script{}, err
	}
	return s, nil
}

// Source returns the subject and body templates as written.
func (s Script) Source() (subject, body string) { return s.source[0], s.source[1] }

// Render executes the script's templates with f and the script's vars. The error names
// the template (subject or body) and, for an unknown field, the field.
func (s Script) Render(f Fields) (subject, body string, err error) {
	data := map[string]any{"Vendor": f.Vendor, "Token": f.Token, "LocalTime": f.LocalTime}
	for k, v := range s.Vars {
		data[k] = v
	}
	var b strings.Builder
	if err := s.subject.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("subject: %w", err)
	}
	subject = strings.TrimSpace(b.String())
	b.Reset()
	if err := s.body.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("body: %w", err)
	}
	return subject, b.String(), nil
}
