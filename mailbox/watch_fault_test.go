package mailbox

import (
	"context"
	"slices"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestWatcherBackoffCaps: a server that is down is retried at most MaxBackoff apart, so a
// returning server is found soon; a refused login doubles on up to AuthMaxBackoff, since
// retrying it often cures nothing and gets the account locked.
func TestWatcherBackoffCaps(t *testing.T) {
	t.Parallel()
	opts := NewWatcher(Server{}, nil, nil, WatchOptions{}).opts
	if opts.MaxBackoff != DefaultWatchMaxBackoff || opts.MaxBackoff > 4*time.Second || opts.AuthMaxBackoff != DefaultWatchAuthMaxBackoff {
		t.Errorf("default backoff caps = %v and %v (refused logins), want %v (at most 4 s, so that a server is found within 5 s of its return) and %v",
			opts.MaxBackoff, opts.AuthMaxBackoff, DefaultWatchMaxBackoff, DefaultWatchAuthMaxBackoff)
	}

	w := mailworldtest.Memory(t, lin)
	wrong := serverAt(t, w.IMAPAddr(), SecurityNone, mailworld.User{Address: lin.Address, Password: "not-" + lin.Password})
	logs := newLogCapture(t)
	watcher, stop := runWatcher(t, wrong, newMemPositions(), func(context.Context, Fetched) error { return nil },
		WatchOptions{Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, AuthMaxBackoff: 80 * time.Millisecond, Logger: logs.logger()})
	waitUntil(t, "6 refused logins", 5*time.Second, func() bool { return len(logs.retries()) >= 6 })
	stop()
	want := scaled([]time.Duration{10, 20, 40, 80, 80, 80}, time.Millisecond)
	if got := logs.retries(); !slices.Equal(got[:len(want)], want) {
		t.Errorf("logged retry_in after refused logins = %v, want it to start %v", got, want)
	}
	if st := watcher.State(); st.LastError == nil || !loginRefused(st.LastError) {
		t.Errorf("State().LastError = %v, want a refused login", st.LastError)
	}
}
