package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supportprobe/configs"
)

func TestInitWritesExample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sp.yaml")
	code, stdout, stderr := invoke(t, now, "init", "--out", path)
	if code != exitOK {
		t.Fatalf("init exited %d\nstderr: %s", code, stderr)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, configs.Example) {
		t.Errorf("written file differs from configs.Example")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
	for _, want := range []string{"Wrote " + path, "password", "supportprobe check --config " + path + " --connect", "supportprobe run"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("next steps lack %q:\n%s", want, stdout)
		}
	}

	// The written file passes check (missing passwords are only warnings there).
	code, stdout, stderr = invoke(t, now, "check", "--config", path)
	if code != exitOK {
		t.Fatalf("check of the written file exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "is valid") {
		t.Errorf("check output lacks \"is valid\":\n%s", stdout)
	}
}

func TestInitRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sp.yaml")
	if err := os.WriteFile(path, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := invoke(t, now, "init", "--out", path)
	if code != exitUsage {
		t.Errorf("init over an existing file exited %d, want %d", code, exitUsage)
	}
	for _, want := range []string{path + " already exists", "--out", "remove"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %s", stdout)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine\n" {
		t.Errorf("existing file changed to %q", got)
	}
}

func TestInitDefaultPath(t *testing.T) {
	t.Chdir(t.TempDir())
	if code, _, stderr := invoke(t, now, "init"); code != exitOK {
		t.Fatalf("init exited %d: %s", code, stderr)
	}
	if _, err := os.Stat(defaultInitPath); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := invoke(t, now, "init"); code != exitUsage {
		t.Errorf("second init exited %d, want %d", code, exitUsage)
	}
}

func TestInitStdout(t *testing.T) {
	t.Chdir(t.TempDir())
	code, stdout, stderr := invoke(t, now, "init", "--out", "-")
	if code != exitOK {
		t.Fatalf("init --out - exited %d: %s", code, stderr)
	}
	if stdout != string(configs.Example) {
		t.Errorf("stdout is not exactly configs.Example")
	}
	if _, err := os.Stat(defaultInitPath); err == nil {
		t.Errorf("init --out - wrote %s", defaultInitPath)
	}
}

func TestInitUsage(t *testing.T) {
	for _, args := range [][]string{{"init", "extra"}, {"init", "--out", ""}, {"init", "--nope"}} {
		if code, _, _ := invoke(t, now, args...); code != exitUsage {
			t.Errorf("%q exited %d, want %d", args, code, exitUsage)
		}
	}
	code, stdout, _ := invoke(t, now, "init", "--help")
	if code != exitOK || !strings.Contains(stdout, "--out") {
		t.Errorf("init --help: exit %d\n%s", code, stdout)
	}
}

// The systemd unit in configs/ starts `supportprobe run` with flags that run accepts,
// and with the configuration path the program defaults to.
func TestServiceUnitFlags(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "..", "configs", "supportprobe.service"))
	if err != nil {
		t.Fatal(err)
	}
	var exec string
	for line := range strings.Lines(string(unit)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ExecStart="); ok {
			exec = v
		}
	}
	args := strings.Fields(exec)
	if len(args) < 2 || args[1] != "run" {
		t.Fatalf("ExecStart=%q does not run `supportprobe run`", exec)
	}
	code, help, _ := invoke(t, now, "run", "--help")
	if code != exitOK {
		t.Fatalf("run --help exited %d", code)
	}
	for i, a := range args[2:] {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if !strings.Contains(help, "  -"+name+" ") {
			t.Errorf("ExecStart passes %s, which `run --help` does not list:\n%s", a, help)
		}
		if name == "config" && (2+i+1 >= len(args) || args[2+i+1] != defaultConfigPath) {
			t.Errorf("ExecStart=%s: --config is not followed by the default %s", exec, defaultConfigPath)
		}
	}
}
