package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decode parses data into its node tree (for positions) and, strictly, into rawConfig.
// Problems go to p, reworded from yaml.v3's Go-flavoured messages into the file's terms.
// When p has problems on return, the results are not to be validated: a misspelt key
// would only show up again as a missing one.
func decode(data []byte, p *problems) (rawConfig, *yaml.Node) {
	var raw rawConfig
	none := at{}

	// Documents holding nothing (a stray "---") are skipped; more than one holding
	// something is an error, since the rest would be silently ignored.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root *yaml.Node
	rootIndex := 0 // which document root is
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.add(syntaxError(data, err))
			return raw, nil
		}
		n := deref(&doc)
		if n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			continue
		}
		if root != nil {
			p.addf(at{line: documentStart(data, n.Line)}, "a second YAML document starts here; keep the whole configuration in one document")
			return raw, nil
		}
		root, rootIndex = n, i
	}
	if root == nil {
		p.addf(none, "the file is empty (start from the example that `supportprobe init` writes)")
		return raw, nil
	}
	if root.Kind != yaml.MappingNode {
		p.addf(at{line: root.Line}, "the top level must be a mapping of keys (%s), not %s",
			strings.Join(knownKeys[typeName[rawConfig]()], ", "), describeNode(root))
		return raw, nil
	}

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	for range rootIndex {
		var empty yaml.Node
		_ = strict.Decode(&empty) // decoded without error above
	}
	if err := strict.Decode(&raw); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.add(syntaxPosition(err))
			return raw, root
		}
		for _, msg := range te.Errors {
			p.add(reword(top(root), msg))
		}
	}
	return raw, root
}

// documentStart returns the line of the last "---" marker at or before line: the start
// of the document whose content begins on line.
func documentStart(data []byte, line int) int {
	start := line
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 > line {
			break
		}
		if l = strings.TrimRight(l, "\r"); l == "---" || strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "---\t") {
			start = i + 1
		}
	}
	return start
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxError places a yaml.v3 syntax error and explains the commonest one, a tab used
// for indentation, which the scanner sometimes reports without a line.
func syntaxError(data []byte, err error) (at, error) {
	pos, msg := syntaxPosition(err)
	tabbed := func(l string) bool { return strings.HasPrefix(strings.TrimLeft(l, " "), "\t") }
	lines := strings.Split(string(data), "\n")
	if pos.line == 0 {
		for i, l := range lines {
			if tabbed(l) {
				pos.line = i + 1
				break
			}
		}
	}
	if pos.line > 0 && pos.line <= len(lines) && tabbed(lines[pos.line-1]) {
		msg = fmt.Errorf("%v (a tab indents this line; YAML indents with spaces)", msg)
	}
	return pos, msg
}

// syntaxPosition splits a yaml.v3 syntax error into its line and its message.
func syntaxPosition(err error) (at, error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return at{line: line}, errors.New(m[2])
	}
	return at{}, errors.New(strings.TrimPrefix(msg, "yaml: "))
}

var (
	unknownField = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)
	repeatedKey  = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
	repeatedFld  = regexp.MustCompile(`^line (\d+): field (.+) already set in type (\S+)$`)
	wrongType    = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
)

// reword turns one message of a yaml.TypeError into a position and a message in the
// file's terms: the path of the mapping or value concerned, the key, and for an unknown
// key a likely correction.
func reword(root at, msg string) (at, error) {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		line, key, typ := atoi(m[1]), m[2], m[3]
		parent := findKey(root, line, key)
		parent.line = line
		return parent, fmt.Errorf("unknown key %q%s", key, suggest(key, typ))
	}
	if m := repeatedKey.FindStringSubmatch(msg); m != nil {
		line, key := atoi(m[1]), m[2]
		parent := findKey(root, line, key)
		parent.line = line
		return parent, fmt.Errorf("key %q appears twice (first at line %s); keep one", key, m[3])
	}
	if m := repeatedFld.FindStringSubmatch(msg); m != nil {
		line, key := atoi(m[1]), m[2]
		parent := findKey(root, line, key)
		parent.line = line
		return parent, fmt.Errorf("key %q appears twice; keep one", key)
	}
	if m := wrongType.FindStringSubmatch(msg); m != nil {
		line, tag, goType := atoi(m[1]), m[2], m[4]
		pos, n := findValue(root, line, tag, m[3])
		pos.line = line
		got := describeTag(tag, m[3])
		if n != nil {
			got = describeNode(n)
		}
		return pos, fmt.Errorf("want %s, got %s", describeType(goType), got)
	}
	// Not a shape this code knows: keep yaml's words, minus its prefix.
	pos, err := syntaxPosition(errors.New(msg))
	return pos, err
}

// findKey returns the position of the mapping holding key at line.
func findKey(root at, line int, key string) at {
	found := at{line: line}
	walk(root, func(parent at, kn *yaml.Node, _ at, _ *yaml.Node) bool {
		if kn != nil && kn.Line == line && kn.Value == key {
			found = parent
			return true
		}
		return false
	})
	return found
}

// findValue returns the position of the value at line with the given tag, and the node.
func findValue(root at, line int, tag, value string) (at, *yaml.Node) {
	found, node := at{line: line}, (*yaml.Node)(nil)
	walk(root, func(_ at, _ *yaml.Node, child at, vn *yaml.Node) bool {
		if vn.Line != line || vn.ShortTag() != tag {
			return false
		}
		if value != "" && vn.Value != value && !strings.HasPrefix(vn.Value, strings.TrimSuffix(value, "...")) {
			return false
		}
		found, node = child, vn
		return true
	})
	return found, node
}

// describeNode says what a node is, in words: a quoted string, a number, a list.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping of keys"
	case yaml.AliasNode:
		return "an alias"
	}
	return describeTag(n.ShortTag(), n.Value)
}

func describeTag(tag, value string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping of keys"
	case "!!str":
		return strconv.Quote(value)
	case "!!int", "!!float":
		return "the number " + value
	case "!!bool":
		return value
	case "!!null":
		return "nothing"
	}
	return fmt.Sprintf("%s %s", tag, value)
}

// describeType says in the file's terms what a Go type of a raw struct accepts.
func describeType(goType string) string {
	switch {
	case goType == "int":
		return "a whole number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a single value"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "configs.raw"):
		return "a mapping of keys"
	}
	return goType
}

// suggest returns " (did you mean …?)" for an unknown key of the raw type named typ, or
// the list of keys it accepts when nothing is close.
func suggest(key, typ string) string {
	lower := strings.ToLower(key)
	if typ == typeName[rawHours]() && (strings.Contains(lower, "zone") || lower == "tz") {
		return " (business hours are kept in the vendor's timezone; set timezone: on the vendor)"
	}
	keys := knownKeys[typ]
	if alias, ok := keyAliases[lower]; ok && slices.Contains(keys, alias) {
		return fmt.Sprintf(" (did you mean %q?)", alias)
	}
	best, bestDist := "", 3
	for _, k := range keys {
		if k == "password" {
			continue // never steer anyone towards a literal password
		}
		if d := editDistance(lower, k); d < bestDist && d <= max(1, len(k)/3) {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(keys) == 0 {
		return ""
	}
	shown := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "password" })
	return fmt.Sprintf(" (known keys: %s)", strings.Join(shown, ", "))
}

// keyAliases maps names people reach for to the key the file uses.
var keyAliases = map[string]string{
	"tz": "timezone", "zone": "timezone", "time_zone": "timezone", "timezone": "timezone",
	"spec": "cron", "schedule": "cron",
	"user": "username", "login": "username",
	"ssl": "security", "tls": "security", "starttls": "security",
	"hours":      "business_hours",
	"recipients": "to", "address": "to", "addresses": "to",
	"passwordfile": "password_file", "password-file": "password_file",
	"passwordenv": "password_env", "password-env": "password_env",
}

// editDistance is the optimal-string-alignment distance between a and b: insertions,
// deletions, substitutions and swaps of neighbours each cost one, so "hots" is one step
// from "host".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// typeName returns the name yaml.v3 uses for T in its messages ("configs.rawServer").
func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// knownKeys maps each raw type's name to the keys it accepts, in declaration order.
var knownKeys = collectKeys(reflect.TypeFor[rawConfig](), map[string][]string{})

func collectKeys(t reflect.Type, into map[string][]string) map[string][]string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return into
	}
	if _, done := into[t.String()]; done {
		return into
	}
	into[t.String()] = structKeys(t)
	for f := range t.Fields() {
		collectKeys(f.Type, into)
	}
	return into
}

func structKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			keys = append(keys, structKeys(f.Type)...)
			continue
		}
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}
