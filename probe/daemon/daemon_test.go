package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/store"
)

func mustDaemon(t *testing.T, stateDir string) *Daemon {
	t.Helper()
	d, err := New(&configs.Config{StateDir: stateDir}, Options{Logger: quiet})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestSecondDaemonNamesHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	mustDaemon(t, dir)
	_, err := New(&configs.Config{StateDir: dir}, Options{Logger: quiet})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second New() = %v, want ErrBusy", err)
	}
	if want := "pid " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("second New() = %q, want it to name %q", err, want)
	}
}

func TestLockReleasedOnClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	d := mustDaemon(t, dir)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
	mustDaemon(t, dir)
}

func TestRunServesAndStops(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	d := mustDaemon(t, dir)
	if _, err := d.DB().CreateProbe(probe.Probe{Vendor: "acme", CreatedAt: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	src, err := OpenSource(context.Background(), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*Client); !ok {
		t.Errorf("OpenSource while running = %T, want *Client", src)
	}
	ps, err := src.Probes(context.Background(), store.Filter{Vendor: "acme"})
	if err != nil || len(ps) != 1 || ps[0].ID != "P1" {
		t.Errorf("Probes through socket = %v, %v", ps, err)
	}
	if _, err := src.Probe(context.Background(), "P9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Probe(P9) through socket = %v, want ErrNotFound", err)
	}
	src.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of cancel")
	}
	d.Close()

	src, err = OpenSource(context.Background(), dir, false)
	if err != nil {
		t.Fatalf("OpenSource after stop = %v", err)
	}
	defer src.Close()
	if _, ok := src.(local); !ok {
		t.Errorf("OpenSource after stop = %T, want the file", src)
	}
	if ps, _ := src.Probes(context.Background(), store.Filter{}); len(ps) != 1 {
		t.Errorf("Probes from file = %d, want 1", len(ps))
	}
}

func TestSocketPathTooLong(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	_, err := New(&configs.Config{StateDir: dir}, Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "shorter state_dir") {
		t.Errorf("New(long state dir) = %v, want advice to shorten it", err)
	}
}
