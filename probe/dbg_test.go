package probe_test

import (
	"os"
	"testing"

	"supportprobe/mailbox"
	"supportprobe/probe"
)

func TestDbgFile(t *testing.T) {
	f := os.Getenv("DBG_FILE")
	if f == "" {
		t.Skip()
	}
	raw, _ := os.ReadFile(f)
	m, _ := mailbox.Parse(raw, mailbox.ParseOptions{})
	t.Logf("NEWTEXT:\n%q", m.NewText)
	c := probe.Classify(m, nil)
	t.Logf("%s %.2f %s", c.Kind, c.Confidence, c.Reason)
}
