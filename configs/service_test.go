package configs_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"supportprobe/configs"
)

// unitFile reads a systemd unit into section -> key -> values (a key may repeat).
func unitFile(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, "\\") {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return unit
}

func TestServiceUnit(t *testing.T) {
	unit := unitFile(t, "supportprobe.service")
	for _, s := range []string{"Unit", "Service", "Install"} {
		if unit[s] == nil {
			t.Errorf("no [%s] section", s)
		}
	}
	svc := unit["Service"]
	want := map[string]string{
		"User":                     "supportprobe",
		"StateDirectory":           "supportprobe",
		"ConfigurationDirectory":   "supportprobe",
		"Restart":                  "on-failure",
		"EnvironmentFile":          "-/etc/supportprobe/env",
		"UMask":                    "0077",
		"NoNewPrivileges":          "yes",
		"ProtectSystem":            "strict",
		"ProtectHome":              "yes",
		"PrivateTmp":               "yes",
		"PrivateDevices":           "yes",
		"ProtectKernelTunables":    "yes",
		"ProtectKernelModules":     "yes",
		"ProtectControlGroups":     "yes",
		"RestrictAddressFamilies":  "AF_UNIX AF_INET AF_INET6",
		"RestrictNamespaces":       "yes",
		"LockPersonality":          "yes",
		"MemoryDenyWriteExecute":   "yes",
		"SystemCallArchitectures":  "native",
		"SystemCallFilter":         "@system-service",
		"RestartPreventExitStatus": "2 3",
	}
	for k, v := range want {
		if !slices.Contains(svc[k], v) {
			t.Errorf("[Service] %s=%s missing (have %q)", k, v, svc[k])
		}
	}
	if got := unit["Install"]["WantedBy"]; !slices.Contains(got, "multi-user.target") {
		t.Errorf("[Install] WantedBy=%q, want multi-user.target", got)
	}

	// The state directory systemd creates is the configuration's default state_dir.
	if dir := "/var/lib/" + svc["StateDirectory"][0]; dir != configs.DefaultStateDir {
		t.Errorf("StateDirectory gives %s, but the default state_dir is %s", dir, configs.DefaultStateDir)
	}
	exec := svc["ExecStart"]
	if len(exec) != 1 {
		t.Fatalf("ExecStart=%q, want one", exec)
	}
	args := strings.Fields(exec[0])
	if len(args) < 2 || args[0] != "/usr/local/bin/supportprobe" || args[1] != "run" {
		t.Errorf("ExecStart=%s, want /usr/local/bin/supportprobe run ...", exec[0])
	}
	for _, w := range []string{"--config /etc/supportprobe/supportprobe.yaml", "--log-format json"} {
		if !strings.Contains(exec[0], w) {
			t.Errorf("ExecStart=%s lacks %q", exec[0], w)
		}
	}
	// The daemon reloads its configuration on SIGHUP (supportprobe run).
	if got := svc["ExecReload"]; len(got) != 1 || got[0] != "/bin/kill -HUP $MAINPID" {
		t.Errorf("ExecReload=%q, want /bin/kill -HUP $MAINPID", got)
	}
}
