package daemon

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// The idle daemon's garbage collection. The Go runtime forces a GC every 2 minutes
// whatever a program does, unless GOGC is off; on an otherwise idle daemon that GC is
// most of its wake-ups (tens of context switches each on a loaded 2-core machine, the
// mark workers and sysmon waiting for one another), and it finds nothing to free. So
// once the heap is known to be idle (after the start's garbage is returned, or a GC
// that came 100 s or more after the previous one: only the forced GC does), the daemon
// turns GOGC off and bounds the heap instead with a memory limit of what the runtime
// holds then plus idleGCHeadroom. Any work that allocates that much collects at the
// limit, and the first GC seen while GOGC is off turns it back on with the limit that
// was set before: from then on the runtime paces the GC as usual until the heap is idle
// again. A daemon started with GOGC or GOMEMLIMIT in its environment is left alone.
//
// What it costs: garbage made while GOGC is off stays until idleGCHeadroom of it
// forces a collection, so the anonymous memory of an idle daemon can sit up to that
// much higher (with 4 MiB one Dovecot run measured 12.6 MB against 8.7-9.9 MB in the
// others), and work that starts while idle collects once more, at the limit. What it
// saves: the forced GC, 2.5 in a 5-minute window (GODEBUG=gctrace=1: none in the
// window after the start's).

// idleGCHeadroom is how much the runtime's memory may grow while GOGC is off before the
// memory limit collects: 1 MiB bounds what an idle daemon can hold more than it needs.
// The end of the start's work allocates more than that after releaseStartupMemory, so
// the first forced GC after the start still runs (gctrace: a GC at the limit 35 ms
// after, then the forced one 151 s after the start, then none to the window's end).

const idleGCHeadroom = 1 << 20

// idleGCAfter is the gap between two GCs from which the second one is taken for the
// runtime's forced GC (every 2 minutes when nothing else triggers one): the heap was idle.
const idleGCAfter = 100 * time.Second

// idleGCRunning is set while an idleGC governs the process: the GC settings are
// process-wide, so a second daemon in the same process (tests) leaves them alone.
var idleGCRunning atomic.Bool

// idleGC turns the forced GC off while the heap is idle (see the top of this file).
type idleGC struct {
	log     *slog.Logger
	percent int   // GOGC to restore
	limit   int64 // memory limit to restore

	mu      sync.Mutex
	stopped bool
	idle    bool      // GOGC is off, the memory limit set
	lastGC  time.Time // when the previous GC was seen
	cycles  int       // GCs seen, for tests
	entered int       // times idle mode was entered, for tests
}

// gcSentinel is garbage whose finalizer reports each GC to its idleGC.
type gcSentinel struct{ g *idleGC }

// startIdleGC starts governing the process's GC; it returns nil when another daemon of
// the process already does, or the environment sets GOGC or GOMEMLIMIT, or GOGC is off.
func startIdleGC(log *slog.Logger) *idleGC {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		log.Debug("idle GC: GOGC or GOMEMLIMIT set in the environment, left as set")
		return nil
	}
	if !idleGCRunning.CompareAndSwap(false, true) {
		return nil
	}
	percent := debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	if percent < 0 {
		idleGCRunning.Store(false)
		return nil
	}
	g := &idleGC{log: log, percent: percent, limit: debug.SetMemoryLimit(-1), lastGC: time.Now()}
	g.arm()
	return g
}

// arm allocates a sentinel that the next GC finds unreachable.
func (g *idleGC) arm() {
	runtime.SetFinalizer(&gcSentinel{g: g}, func(s *gcSentinel) { s.g.afterGC() })
}

// afterGC runs on the finalizer goroutine once per GC cycle.
func (g *idleGC) afterGC() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	now := time.Now()
	since := now.Sub(g.lastGC)
	g.lastGC = now
	g.cycles++
	switch {
	case g.idle:
		// Only the memory limit (or a program's own runtime.GC) collects while GOGC is
		// off: the daemon is working again.
		g.leaveLocked()
		g.log.Debug("idle GC: work resumed, GOGC back on", "gogc", g.percent)
	case since >= idleGCAfter:
		g.enterLocked()
	}
	g.arm()
}

// enterIdle turns the forced GC off now: the caller knows the heap holds no garbage to
// speak of (releaseStartupMemory). Safe on a nil idleGC.
func (g *idleGC) enterIdle() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped && !g.idle {
		g.enterLocked()
	}
}

func (g *idleGC) enterLocked() {
	mem, ok := runtimeMemory()
	limit := mem + idleGCHeadroom
	if !ok || g.limit < limit {
		// A lower limit was set before: keep it, GOGC off makes no sense above it.
		return
	}
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(-1)
	g.idle = true
	g.entered++
	g.log.Debug("idle GC: heap idle, periodic GC off", "memory_limit_mb", float64(limit)/(1<<20))
}

func (g *idleGC) leaveLocked() {
	debug.SetGCPercent(g.percent)
	debug.SetMemoryLimit(g.limit)
	g.idle = false
}

// stop restores the GC settings found at the start and lets another daemon govern.
// Safe on a nil idleGC.
func (g *idleGC) stop() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	if g.idle {
		g.leaveLocked()
	}
	g.stopped = true
	idleGCRunning.Store(false)
}

// runtimeMemory is what the memory limit is compared with: the memory the Go runtime
// has mapped, less what it has returned to the system.
// ok is false when this Go release does not tell.
func runtimeMemory() (mem int64, ok bool) {
	s := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 || s[1].Value.Kind() != rtmetrics.KindUint64 {
		return 0, false
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64()), true
}
