package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/evidence"
)

// recipeOf returns the shell commands of the DEFINITIONS.txt recipe (the lines after "$ ").
func recipeOf(t *testing.T) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(evidence.Definitions, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(l), "$ "); ok {
			lines = append(lines, c)
		}
	}
	if len(lines) < 3 {
		t.Fatalf("DEFINITIONS.txt holds %d recipe lines", len(lines))
	}
	return strings.Join(lines, "\n")
}

// runDefinitionsRecipe runs the recipe word for word, in a fresh directory holding
// archive.zip and trusted.pub, with the real tools (skipping when they are missing,
// unless SUPPORTPROBE_REAL_MAIL=1).
func runDefinitionsRecipe(t *testing.T, archive, trustedPub string) (string, error) {
	t.Helper()
	for _, tool := range []string{"ssh-keygen", "unzip", "jq", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SUPPORTPROBE_REAL_MAIL") == "1" {
				t.Fatalf("%s is needed to check an archive without supportprobe (required with SUPPORTPROBE_REAL_MAIL=1): %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	dir := t.TempDir()
	for src, dst := range map[string]string{archive: "archive.zip", trustedPub: "trusted.pub"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-e", "-c", recipeOf(t))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSignedEvidenceEndToEnd: a probe goes out through the mail world and the vendor
// answers; with the daemon running, `key` prints the instance's public key and export
// writes the archive through the daemon; after it stops, export reads the database
// itself. Both archives check out with `export --verify --key` and with the
// DEFINITIONS.txt recipe run with the real ssh-keygen; the vendor's reply rewritten
// together with its manifest entry fails both.
func TestSignedEvidenceEndToEnd(t *testing.T) {
	run := func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		stop := startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")
		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK {
			t.Fatalf("send: exit %d, %s", code, stderr)
		}
		id := strings.TrimSpace(stdout)
		p := waitHistory(t, cfgPath, id, "sent", func(p historyProbe) bool { return p.Status == "sent" })
		vendorSend(t, w, "lin.wei@example.com", fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: [#4711] Streams failing
Message-ID: <agent-%[1]s@helpdesk.acme.example>
In-Reply-To: <%[2]s>
References: <%[2]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

We moved your streams to a healthy ingest node; new streams should start now.

Dana
`, p.Token, p.MessageID, time.Now().Format(time.RFC1123Z)))
		p = waitHistory(t, cfgPath, id, "answered", func(p historyProbe) bool { return p.Status == "answered" })
		reply := id + "/" + p.Replies[0].ID + ".eml"

		dir := t.TempDir()
		code, pubLine, stderr := invoke(t, time.Now(), "key", "--config", cfgPath)
		if code != exitOK {
			t.Fatalf("key: exit %d, %s", code, stderr)
		}
		trusted := filepath.Join(dir, "supportprobe.pub")
		if err := os.WriteFile(trusted, []byte(pubLine), 0o644); err != nil {
			t.Fatal(err)
		}
		running := filepath.Join(dir, "running.zip")
		if code, stdout, stderr := invoke(t, time.Now(), "export", "--config", cfgPath, "--probe", id, "--out", running); code != exitOK {
			t.Fatalf("export while running: exit %d\n%s%s", code, stdout, stderr)
		}
		stop()
		stopped := filepath.Join(dir, "stopped.zip")
		if code, stdout, stderr := invoke(t, time.Now(), "export", "--config", cfgPath, "--probe", id, "--out", stopped); code != exitOK {
			t.Fatalf("export with the daemon stopped: exit %d\n%s%s", code, stdout, stderr)
		}

		for _, zipPath := range []string{running, stopped} {
			if code, stdout, stderr := invoke(t, time.Now(), "export", "--verify", zipPath, "--key", trusted); code != exitOK ||
				!strings.Contains(stdout, "signature good, by the trusted key") {
				t.Errorf("%s: verify --key: exit %d\n%s%s", filepath.Base(zipPath), code, stdout, stderr)
			}
			if !strings.Contains(string(readZip(t, zipPath)[reply]), "healthy ingest node") {
				t.Errorf("%s: %s is not the vendor's reply", filepath.Base(zipPath), reply)
			}
			out, err := runDefinitionsRecipe(t, zipPath, trusted)
			if err != nil || !strings.Contains(out, `Good "supportprobe-evidence" signature`) || !strings.Contains(out, reply+": OK") {
				t.Errorf("%s: DEFINITIONS.txt recipe: %v\n%s", filepath.Base(zipPath), err, out)
			}

			forgeArchive(t, zipPath, reply)
			code, stdout, stderr := invoke(t, time.Now(), "export", "--verify", zipPath, "--key", trusted)
			if code != exitFailure || !strings.Contains(stderr, "manifest.json.sig: signature does not match manifest.json") {
				t.Errorf("%s forged: verify --key: exit %d\n%s%s", filepath.Base(zipPath), code, stdout, stderr)
			}
			if out, err := runDefinitionsRecipe(t, zipPath, trusted); err == nil || strings.Contains(out, "Good ") {
				t.Errorf("%s forged: the recipe accepted it (%v):\n%s", filepath.Base(zipPath), err, out)
			}
		}
	}
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Memory(t, linUser, supportUser))
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Real(t, linUser, supportUser))
	})
}
