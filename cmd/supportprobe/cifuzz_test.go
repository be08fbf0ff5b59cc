package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCIFuzzListsEveryTarget checks that .ci/fuzz, which CI runs to give every fuzz
// target its minute, lists each `func Fuzz…` of the module's test files with its
// package, and nothing that no longer exists: a new target is never silently left out.
func TestCIFuzzListsEveryTarget(t *testing.T) {
	root := filepath.Join("..", "..")
	script, err := os.ReadFile(filepath.Join(root, ".ci", "fuzz"))
	if err != nil {
		t.Fatalf("read .ci/fuzz: %v", err)
	}
	entry := regexp.MustCompile(`(?m)^\s*"(\./[^\s"]+) (Fuzz\w+)"\s*$`)
	var listed []string
	for _, m := range entry.FindAllStringSubmatch(string(script), -1) {
		listed = append(listed, m[1]+" "+m[2])
	}

	decl := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)
	var found []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			found = append(found, "./"+filepath.ToSlash(rel)+" "+m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the module for fuzz targets: %v", err)
	}
	if len(found) == 0 {
		t.Fatal("found no fuzz targets in the module; is the walk looking in the right place?")
	}
	slices.Sort(found)
	slices.Sort(listed)
	for _, f := range found {
		if !slices.Contains(listed, f) {
			t.Errorf(".ci/fuzz does not run %s: add the line \"%s\" to its targets", f, f)
		}
	}
	for _, l := range listed {
		if !slices.Contains(found, l) {
			t.Errorf(".ci/fuzz lists %s, which no test file declares: remove it", l)
		}
	}
}
