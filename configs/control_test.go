package configs_test

import (
	"strings"
	"testing"
)

func TestControlGroup(t *testing.T) {
	if c := mustParse(t, []byte(minimal+"control: {group: supportprobe}\n")); c.ControlGroup != "supportprobe" {
		t.Errorf("ControlGroup = %q", c.ControlGroup)
	}
	if c := mustParse(t, []byte(minimal)); c.ControlGroup != "" {
		t.Errorf("ControlGroup without control = %q", c.ControlGroup)
	}
	if _, err := parseString(minimal + "control: {group: \"\"}\n"); err == nil || !strings.Contains(err.Error(), "control.group: \"\" is not a group name") {
		t.Errorf("empty group: %v", err)
	}
}
