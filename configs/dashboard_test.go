package configs_test

import (
	"strings"
	"testing"
)

func TestDashboardReadOnly(t *testing.T) {
	const http = "http: {listen: \"127.0.0.1:9108\"}\n"
	tests := []struct {
		name     string
		extra    string
		readOnly bool
	}{
		{"no dashboard section: read-only", http, true},
		{"empty dashboard section: read-only", http + "dashboard: {}\n", true},
		{"read_only: true", http + "dashboard: {read_only: true}\n", true},
		{"read_only: false allows decisions", http + "dashboard: {read_only: false}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, []byte(minimal+tt.extra))
			if c.Dashboard.ReadOnly != tt.readOnly {
				t.Errorf("Dashboard.ReadOnly = %v, want %v", c.Dashboard.ReadOnly, tt.readOnly)
			}
		})
	}
	if c := mustParse(t, []byte(minimal)); !c.Dashboard.ReadOnly {
		t.Error("without http or dashboard: Dashboard.ReadOnly = false, want true")
	}
	bad := []struct{ name, extra, want string }{
		{"typo in the key", http + "dashboard: {readonly: false}\n", `dashboard: unknown key "readonly" (did you mean "read_only"?)`},
		{"not a boolean", http + "dashboard: {read_only: sometimes}\n", "read_only"},
		{"no http section", "dashboard: {read_only: false}\n", "dashboard: the dashboard is served on the http listener, and the file has no http section"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseString(minimal + tt.extra)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
