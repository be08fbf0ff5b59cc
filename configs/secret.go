package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Secret says where a password is kept: in a file (password_file) or an environment
// variable (password_env), never in the configuration itself. It holds only that
// reference; Value reads the password each time it is called, so a rotated password is
// picked up on the next login, and printing a Secret (String, any fmt verb) shows the
// reference, never the password. The zero Secret means no password is configured.
type Secret struct {
	// File is the path of a file holding the password; a trailing newline is dropped.
	File string
	// Env is the name of an environment variable holding the password.
	Env string
}

// IsZero reports whether no password is configured.
func (s Secret) IsZero() bool { return s.File == "" && s.Env == "" }

// Value reads the password. The error names the file or the environment variable and
// says what to do about it; an empty password is an error too, since no server accepts
// one and a login failure later would say less.
func (s Secret) Value() (string, error) {
	switch {
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			var hint string
			switch {
			case errors.Is(err, fs.ErrNotExist):
				hint = "create it holding only the password, mode 0600, owned by the user supportprobe runs as"
			case errors.Is(err, fs.ErrPermission):
				hint = "make it readable by the user supportprobe runs as, and by no one else (mode 0600)"
			default:
				hint = "password_file must name a readable file holding only the password"
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("password file %s: %w (%s)", s.File, err, hint)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("password file %s is empty (write the password into it, on one line)", s.File)
		}
		return v, nil
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set (set it in supportprobe's environment, for example with EnvironmentFile= in the systemd unit, or use password_file)", s.Env)
		}
		if v == "" {
			return "", fmt.Errorf("environment variable %s is set but empty (give it the password)", s.Env)
		}
		return v, nil
	}
	return "", errors.New("no password configured (set password_file or password_env)")
}

// String describes where the password is kept, for example "password_env
// SUPPORTPROBE_IMAP_PASSWORD"; it never reads or shows the password.
func (s Secret) String() string {
	switch {
	case s.File != "":
		return "password_file " + s.File
	case s.Env != "":
		return "password_env " + s.Env
	}
	return "no password"
}

// Format prints s as String does for every verb, including %#v and %+v, so no way of
// printing a Secret ever reads the password.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(s.String()))
		return
	}
	fmt.Fprint(f, s.String())
}
