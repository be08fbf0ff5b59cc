package configs

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// at is a position in the document under validation: the path shown in messages, the
// node found there (nil when the key is absent) and the line to report, which for an
// absent key is the line of the nearest enclosing key that is present.
type at struct {
	path string
	node *yaml.Node
	line int
}

// top returns the position of the document's root mapping. Its line is 0, so a missing
// top-level key is reported without a line.
func top(root *yaml.Node) at { return at{node: deref(root)} }

// key returns the position of the value of key k in the mapping at a. The reported line
// is the key's, which is where a reader looks, even when the value is a block below it.
func (a at) key(k string) at {
	child := at{path: joinPath(a.path, k), line: a.line}
	if kn, vn := lookup(a.node, k); kn != nil {
		child.node, child.line = vn, kn.Line
	}
	return child
}

// item returns the position of the i-th item of the list at a, named in the path by name
// when it is not empty.
func (a at) item(i int, name string) at {
	child := at{path: fmt.Sprintf("%s[%d]", a.path, i), line: a.line}
	if name != "" {
		child.path += fmt.Sprintf(" %q", name)
	}
	if n := deref(a.node); n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
		child.node, child.line = deref(n.Content[i]), n.Content[i].Line
	}
	return child
}

// lineOf returns a with the line of its key k: for messages that are about the
// mapping at a but produced by one of its keys.
func (a at) lineOf(k string) at {
	if kn, _ := lookup(a.node, k); kn != nil {
		a.line = kn.Line
	}
	return a
}

// present reports whether the key or item at a is in the document.
func (a at) present() bool { return a.node != nil }

// keys returns the keys of the mapping at a in document order.
func (a at) keys() []string {
	n := deref(a.node)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMergeKey(n.Content[i]) {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

// joinPath appends key k to path p: after a named list item with ": ", which reads
// better than a dot after a quoted name, otherwise with ".".
func joinPath(p, k string) string {
	switch {
	case p == "":
		return k
	case strings.HasSuffix(p, `"`):
		return p + ": " + k
	}
	return p + "." + k
}

// deref follows aliases and unwraps a document node.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

// lookup finds key k in mapping n, then in the mappings merged into it with "<<".
func lookup(n *yaml.Node, k string) (key, value *yaml.Node) {
	return lookupDepth(n, k, 0)
}

func lookupDepth(n *yaml.Node, k string, depth int) (key, value *yaml.Node) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 8 {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if kn := n.Content[i]; kn.Kind == yaml.ScalarNode && kn.Value == k && !isMergeKey(kn) {
			return kn, deref(n.Content[i+1])
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMergeKey(n.Content[i]) {
			continue
		}
		merged := deref(n.Content[i+1])
		sources := []*yaml.Node{merged}
		if merged != nil && merged.Kind == yaml.SequenceNode {
			sources = merged.Content
		}
		for _, m := range sources {
			if kn, vn := lookupDepth(m, k, depth+1); kn != nil {
				return kn, vn
			}
		}
	}
	return nil, nil
}

// itemName returns the name a list item goes by in paths: its name or id key.
func itemName(n *yaml.Node) string {
	for _, k := range []string{"name", "id"} {
		if _, v := lookup(n, k); v != nil && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return ""
}

// visit is called by walk for each child of a mapping (key set) or list (key nil).
type visit func(parent at, key *yaml.Node, child at, value *yaml.Node) bool

// walk calls fn for every node below a, depth first in document order, until fn returns
// true. It does not follow aliases: what they point at is visited where it is defined.
func walk(a at, fn visit) bool {
	n := a.node
	if n == nil {
		return false
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			child := at{path: joinPath(a.path, kn.Value), node: vn, line: kn.Line}
			if fn(a, kn, child, vn) || walk(child, fn) {
				return true
			}
		}
	case yaml.SequenceNode:
		for i, vn := range n.Content {
			child := at{path: fmt.Sprintf("%s[%d]", a.path, i), node: vn, line: vn.Line}
			if name := itemName(vn); name != "" {
				child.path += fmt.Sprintf(" %q", name)
			}
			if fn(a, nil, child, vn) || walk(child, fn) {
				return true
			}
		}
	}
	return false
}
