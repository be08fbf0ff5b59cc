package daemon

import (
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// idleGCSink keeps the test's allocations from being optimised away.
var idleGCSink []byte

// gcPercent reads the process's GOGC setting.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// waitIdleGC waits until cond holds of g, allocating garbage meanwhile so that GCs come.
func waitIdleGC(t *testing.T, g *idleGC, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		g.mu.Lock()
		ok := cond()
		g.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("idle GC: %s did not happen within 20 s", what)
		}
		idleGCSink = make([]byte, 256<<10)
		runtime.Gosched()
	}
}

// TestIdleGC checks the idle daemon's GC governor: GOGC off with a memory limit once
// the heap is idle, back on at the first collection the limit forces, on again after a
// GC that comes idleGCAfter after the previous one (the runtime's forced GC), the
// settings restored at stop, and nothing done when the environment sets GOGC.
func TestIdleGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	log := slog.New(slog.DiscardHandler)
	g := startIdleGC(log)
	if g == nil {
		t.Fatal("startIdleGC: another daemon of the test process still governs the GC (a test left one running?)")
	}
	defer g.stop()
	if startIdleGC(log) != nil {
		t.Fatal("a second daemon in the process also governs the GC")
	}

	g.enterIdle()
	if p := gcPercent(); p != -1 {
		t.Fatalf("after enterIdle GOGC = %d, want -1 (off)", p)
	}
	limit := debug.SetMemoryLimit(-1)
	if mem, _ := runtimeMemory(); limit == math.MaxInt64 || limit < mem {
		t.Fatalf("after enterIdle the memory limit is %d with %d in use, want in use + %d", limit, mem, idleGCHeadroom)
	}

	// Work: garbage beyond the headroom. The memory limit collects, and GOGC is back.
	waitIdleGC(t, g, "leaving idle mode on allocation", func() bool { return !g.idle })
	if p := gcPercent(); p != 100 {
		t.Errorf("after work GOGC = %d, want 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("after work the memory limit is %d, want none", l)
	}

	// A GC long after the previous one: the heap was idle.
	g.mu.Lock()
	g.lastGC = time.Now().Add(-idleGCAfter - time.Second)
	entered := g.entered
	g.mu.Unlock()
	runtime.GC()
	waitIdleGC(t, g, "entering idle mode after a forced-looking GC", func() bool { return g.entered > entered })
	if p := gcPercent(); p != -1 {
		t.Errorf("after a GC %v after the previous one GOGC = %d, want -1", idleGCAfter, p)
	}

	g.stop()
	if p := gcPercent(); p != 100 {
		t.Errorf("after stop GOGC = %d, want 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("after stop the memory limit is %d, want none", l)
	}

	t.Setenv("GOGC", "100")
	if g := startIdleGC(log); g != nil {
		g.stop()
		t.Error("startIdleGC governs the GC although GOGC is set in the environment")
	}
}
