package probe

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// Script is one scripted inquiry: a subject and body written as text/template, in a
// declared language, at a priority. Build one with NewScript, which checks the templates.
type Script struct {
	ID       string
	Language string
	Priority Priority
	Vars     map[string]string
	// Followups are sent in the inquiry's thread; see FollowupSpec.
	Followups []FollowupSpec
	subject   *template.Template
	body      *template.Template
	source    [2]string
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
	// The sample run only visits the branches the sample values take, so a misspelt field
	// inside {{if eq .Vendor "acme"}} passed here and failed at the real run. Check every
	// field the templates name against the built-ins and vars as well.
	known := func(name string) bool { _, ok := vars[name]; return ok || slices.Contains(builtinFields, name) }
	for _, t := range []*template.Template{s.subject, s.body} {
		if err := checkFields(t.Tree, t.Tree.Root, true, known); err != nil {
			return Script{}, fmt.Errorf("%s: %w", t.Name(), err)
		}
	}
	return s, nil
}

// checkFields returns an error for the first field of the template data (.Name where dot
// is the data, or $.Name anywhere) that known rejects. Inside {{with}} and {{range}} dot
// is something else, so only $.Name is checked there.
func checkFields(tree *parse.Tree, n parse.Node, dotIsData bool, known func(string) bool) error {
	check := func(n parse.Node, dotIsData bool) error { return checkFields(tree, n, dotIsData, known) }
	branch := func(b *parse.BranchNode, bodyDotIsData bool) error {
		if err := check(b.Pipe, dotIsData); err != nil {
			return err
		}
		if err := check(b.List, bodyDotIsData); err != nil {
			return err
		}
		return check(b.ElseList, dotIsData)
	}
	unknown := func(n parse.Node, name string) error {
		loc, _ := tree.ErrorContext(n)
		return fmt.Errorf("%s: unknown field %q (want Vendor, Token, LocalTime or one of the script's vars)", loc, name)
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := check(c, dotIsData); err != nil {
				return err
			}
		}
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, cmd := range n.Cmds {
			for _, arg := range cmd.Args {
				if err := check(arg, dotIsData); err != nil {
					return err
				}
			}
		}
	case *parse.ActionNode:
		return check(n.Pipe, dotIsData)
	case *parse.TemplateNode:
		return check(n.Pipe, dotIsData)
	case *parse.ChainNode:
		return check(n.Node, dotIsData)
	case *parse.IfNode:
		return branch(&n.BranchNode, dotIsData)
	case *parse.WithNode:
		return branch(&n.BranchNode, false)
	case *parse.RangeNode:
		return branch(&n.BranchNode, false)
	case *parse.FieldNode:
		if dotIsData && !known(n.Ident[0]) {
			return unknown(n, n.Ident[0])
		}
	case *parse.VariableNode:
		if n.Ident[0] == "$" && len(n.Ident) > 1 && !known(n.Ident[1]) {
			return unknown(n, n.Ident[1])
		}
	}
	return nil
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
