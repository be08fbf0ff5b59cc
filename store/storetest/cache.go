package storetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"supportprobe/store"
)

// CachedFile returns the path of a benchmark database named name (its version included)
// in the system temp dir's supportprobe-bench folder, calling fill to build it first
// when it is not there. fill writes to a temporary name that is renamed into place only
// once it succeeded, so an interrupted build is never mistaken for a finished one. The
// schema version is part of the file name: a migration rebuilds the file.
func CachedFile(tb testing.TB, name string, fill func(path string) error) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "supportprobe-bench")
	path := filepath.Join(dir, fmt.Sprintf("%s-schema%d.db", name, store.SchemaVersion()))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatalf("benchmark cache: %v", err)
	}
	building := path + ".building"
	os.Remove(building)
	tb.Logf("building %s (cached for later runs; delete it to rebuild)", path)
	start := time.Now()
	if err := fill(building); err != nil {
		os.Remove(building)
		tb.Fatalf("build %s: %v", path, err)
	}
	if err := os.Rename(building, path); err != nil {
		tb.Fatalf("benchmark cache: %v", err)
	}
	tb.Logf("built in %s", time.Since(start).Round(time.Second))
	return path
}
