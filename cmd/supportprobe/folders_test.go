package main

import (
	"testing"

	"supportprobe/mailbox"
	"supportprobe/probe/daemon"
)

// TestFolderText: status names a folder found by its attribute, and how.
func TestFolderText(t *testing.T) {
	tests := []struct {
		f    daemon.FolderStatus
		want string
	}{
		{daemon.FolderStatus{Name: "INBOX"}, "INBOX"},
		{daemon.FolderStatus{Name: `\Junk`, Entry: `\Junk`}, `\Junk (found when the daemon connects)`},
		{daemon.FolderStatus{Name: "Junk Email", Entry: `\Junk`, Chosen: mailbox.ChosenBySpecialUse}, `Junk Email (\Junk, SPECIAL-USE)`},
		{daemon.FolderStatus{Name: "Junk", Entry: `\Junk`, Chosen: mailbox.ChosenByFallback}, `Junk (\Junk: no folder marked; found by its usual name)`},
		{daemon.FolderStatus{Name: `\Junk`, Entry: `\Junk`, Chosen: mailbox.ChosenNone}, `\Junk: no folder marked, none of the usual names (Junk, Spam)`},
	}
	for _, tt := range tests {
		if got := folderText(tt.f); got != tt.want {
			t.Errorf("folderText(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}
