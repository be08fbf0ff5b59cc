package main

import (
	"strings"
)

// canonicalID returns the id as the store spells it when s is one of the ids the CLI
// prints (P17, R7, U1) in any case, so `show p17` and `mark r7` work as typed; any other
// string (a Message-ID) comes back unchanged.
func canonicalID(s string) string {
	if isRecordID(s) {
		return strings.ToUpper(s)
	}
	return s
}

// isRecordID says whether s looks like a probe, reply or unmatched-mail id: one of the
// letters P, R, U (either case) and a decimal number.
func isRecordID(s string) bool {
	if len(s) < 2 || !strings.ContainsRune("PRUpru", rune(s[0])) {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
