package store_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"supportprobe/store"
	"supportprobe/store/storetest"
)

// migrate8ChildEnv names the file a child process of TestMigration8Batches migrates
// and is killed in.
const migrate8ChildEnv = "SUPPORTPROBE_TEST_MIGRATE8_CHILD"

// TestMigration8Batches puts a realistic history back in schema 7's JSON and migrates
// it in parts of 40 records in a child process that is killed (SIGKILL, as a crash or
// the OOM killer would) right after its third part is committed. The file is then at
// version 7, partly JSON and partly binary, with the position of the next part in meta;
// it still reads the same records; a read-only open refuses it as not migrated; and the
// next open goes on from that position (fewer parts than from the start) to version 9,
// every record binary and every probe the same as before.
func TestMigration8Batches(t *testing.T) {
	migrateAndDieInChild(t, migrate8ChildEnv)

	path := filepath.Join(t.TempDir(), "supportprobe.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := storetest.NewGenerator(88, 5)
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const n = 200
	for k := range n {
		if err := storetest.Write(db, g.Record("P"+strconv.Itoa(k+1), at.Add(time.Duration(k)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	records := func(db *store.DB) string {
		t.Helper()
		ps, err := db.Probes(store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(ps)
		if err != nil {
			t.Fatal(err)
		}
		return string(j)
	}
	want := records(db)
	all, err := db.Probes(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	for _, p := range all {
		replies += len(p.Replies)
	}
	if replies < 100 {
		t.Fatalf("only %d replies; the history should have about 1.6 per probe", replies)
	}
	if err := db.RewriteAsJSON(); err != nil {
		t.Fatal(err)
	}
	countEncodings(t, db, map[byte]int{'{': 1})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	runMigrationChild(t, "TestMigration8Batches", migrate8ChildEnv, path)

	if _, err := store.Open(path, store.Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "schema version 7") {
		t.Errorf("read-only open of the half-migrated file = %v, want refused as schema version 7", err)
	}
	// Look at the file as the crash left it, without migrating: bbolt directly.
	db, err = store.OpenUnmigrated(path)
	if err != nil {
		t.Fatal(err)
	}
	version, pos, ok := db.MigrationPosition()
	if !ok || version != 8 || len(pos) == 0 {
		t.Fatalf("after the crash: migration position %d %x %v, want one for version 8", version, pos, ok)
	}
	countEncodings(t, db, map[byte]int{'{': 1, 0xB7: 1})
	if got := records(db); got != want {
		t.Error("the half-migrated file reads other records than the file before")
	}
	db.Close()

	parts := 0
	store.SetMigrationBatch(40)
	store.SetMigrationStepHook(func(v uint64, part int) error {
		if v == 8 {
			parts = part
		}
		return nil
	})
	t.Cleanup(func() { store.SetMigrationStepHook(nil); store.SetMigrationBatch(10_000) })
	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open after the crash: %v", err)
	}
	defer db.Close()
	// From the start the migration takes ceil(probes/40) + ceil(replies/40) parts;
	// three were committed before the crash, and the hook does not run after the last.
	if fromStart := (n+39)/40 + (replies+39)/40; parts+1 != fromStart-3 {
		t.Errorf("the resumed migration took %d parts, want %d: it must go on from the position, not start over", parts+1, fromStart-3)
	}
	if _, _, ok := db.MigrationPosition(); ok {
		t.Error("the migration position is still in meta after the migration finished")
	}
	if v := store.SchemaVersion(); v != 10 {
		t.Errorf("SchemaVersion = %d, want 10", v)
	}
	countEncodings(t, db, map[byte]int{0xB7: 1})
	if got := records(db); got != want {
		t.Error("records after the resumed migration differ from before")
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

// migrateAndDieInChild, in the child process of a migration test (env names the file
// to migrate), opens the file with migrations in parts of 40 and kills itself
// (SIGKILL, as a crash or the OOM killer would) right after the third part is
// committed. In the parent it does nothing.
func migrateAndDieInChild(t *testing.T, env string) {
	path := os.Getenv(env)
	if path == "" {
		return
	}
	store.SetMigrationBatch(40)
	store.SetMigrationStepHook(func(v uint64, part int) error {
		if part == 3 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
		return nil
	})
	store.Open(path, store.Options{})
	t.Fatalf("the child was not killed mid-way through migrating %s", path)
}

// runMigrationChild runs test in a child process that migrates path (named in env) and
// is killed mid-way (migrateAndDieInChild), and fails unless SIGKILL ended it.
func runMigrationChild(t *testing.T, test, env, path string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v, want killed by SIGKILL; output:\n%s", err, out)
	}
}
