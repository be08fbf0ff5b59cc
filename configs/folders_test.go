package configs_test

import (
	"slices"
	"testing"

	"supportprobe/configs"
	"supportprobe/mailbox"
)

// TestFolderEntries: folder names are kept as written, special-use attributes are spelled
// canonically, and the same attribute twice is an error, however it is spelled.
func TestFolderEntries(t *testing.T) {
	tests := []struct {
		name, folders string
		want          []string
		err           string
	}{
		{"names as written", "[INBOX, Junk Email, 'Courrier indésirable']", []string{"INBOX", "Junk Email", "Courrier indésirable"}, ""},
		{"attributes in any case", `[INBOX, \junk, \ARCHIVE]`, []string{"INBOX", `\Junk`, `\Archive`}, ""},
		{"a name beside the attribute", `[INBOX, \Junk, Junk]`, []string{"INBOX", `\Junk`, "Junk"}, ""},
		{"an attribute twice", `[INBOX, \Junk, '\JUNK']`, nil,
			`supportprobe.yaml: line 14: mail.imap.folders[2]: \Junk is listed twice`},
		{"the sent folder is no place for replies", `[INBOX, \Sent]`, nil,
			`supportprobe.yaml: line 14: mail.imap.folders[1]: \Sent is not a special-use attribute supportprobe watches (\Junk, \Archive, \Trash): write one of those for the folder the server marks so, or a folder name without the leading backslash`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := edit(t, "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n    folders: "+tt.folders+"\n")
			c, err := configs.Parse(data, "supportprobe.yaml")
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Parse() error:\n got: %v\nwant: %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Mail.IMAP.Folders, tt.want) {
				t.Errorf("Folders = %q, want %q", c.Mail.IMAP.Folders, tt.want)
			}
		})
	}
}

// TestFolderAttrsAgreeWithTheWatcher: every entry the configuration accepts, the watcher
// takes as the same attribute, and the defaults agree.
func TestFolderAttrsAgreeWithTheWatcher(t *testing.T) {
	for _, a := range configs.FolderAttrs {
		attr, ok, err := mailbox.SpecialUseEntry(a)
		if !ok || err != nil || string(attr) != a {
			t.Errorf("mailbox.SpecialUseEntry(%s) = %q, %v, %v; want the same attribute", a, attr, ok, err)
		}
	}
	if !slices.Equal(configs.DefaultFolders, mailbox.DefaultWatchFolders) {
		t.Errorf("configs.DefaultFolders = %q, mailbox.DefaultWatchFolders = %q; want the same", configs.DefaultFolders, mailbox.DefaultWatchFolders)
	}
}
