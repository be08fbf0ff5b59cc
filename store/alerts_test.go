package store

import (
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe/alert"
)

func TestAlertLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supportprobe.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := db.Alerts()
	t0 := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	ev := alert.Event{ID: "open_past_target/P1", Event: alert.OpenPastTarget, Vendor: "acme", Probe: "P1", Message: "m", At: t0}
	if ok, err := l.Raise(ev, []string{"ops", "email"}, t0); !ok || err != nil {
		t.Fatalf("Raise = %v, %v", ok, err)
	}
	txid := func() (id int) {
		db.bolt.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	if ok, err := l.Raise(ev, []string{"ops", "email"}, t0.Add(time.Minute)); ok || err != nil {
		t.Fatalf("second Raise = %v, %v; want not new", ok, err)
	}
	// The alert checks raise every situation they see again: a repeat must not cost a
	// committed write transaction (and its fsyncs).
	if after := txid(); after != before {
		t.Errorf("a second Raise of %s committed %d write transactions, want none", ev.ID, after-before)
	}
	quiet := alert.Event{ID: "test/1", Event: alert.Test, Message: "no channels", At: t0}
	if ok, _ := l.Raise(quiet, nil, t0.Add(time.Second)); !ok {
		t.Fatal("an event without channels is still logged")
	}
	due, err := l.Due(t0)
	if err != nil || len(due) != 1 || due[0].Event.ID != ev.ID || len(due[0].Deliveries) != 2 {
		t.Fatalf("Due = %+v, %v", due, err)
	}
	if err := l.Update(ev.ID, alert.Delivery{Channel: "ops", Attempts: 1, DeliveredAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ev.ID, alert.Delivery{Channel: "email", Attempts: 1, LastError: "refused", NextTry: t0.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ev.ID, alert.Delivery{Channel: "nope"}); err == nil {
		t.Error("Update of a channel the alert was not raised for succeeded")
	}
	if due, _ := l.Due(t0.Add(5 * time.Second)); len(due) != 0 {
		t.Errorf("Due before the retry = %+v", due)
	}
	// A restart keeps the log: the pending delivery is due again, the delivered one not.
	db.Close()
	if db, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l = db.Alerts()
	due, _ = l.Due(t0.Add(10 * time.Second))
	if len(due) != 1 || due[0].Deliveries[0].DeliveredAt.IsZero() || due[0].Deliveries[1].LastError != "refused" {
		t.Fatalf("Due after reopen = %+v", due)
	}
	if ok, _ := l.Raise(ev, []string{"ops"}, t0.Add(time.Hour)); ok {
		t.Error("an alert raised again after a restart was new")
	}
	l.Update(ev.ID, alert.Delivery{Channel: "email", Attempts: 2, DeliveredAt: t0.Add(10 * time.Second)})
	if due, _ := l.Due(t0.Add(time.Hour)); len(due) != 0 {
		t.Errorf("Due after every delivery = %+v", due)
	}
	list, err := l.List(time.Time{}, 0)
	if err != nil || len(list) != 2 || list[0].Event.ID != "test/1" || list[1].Event.ID != ev.ID {
		t.Errorf("List = %+v, %v; want newest first", list, err)
	}
	if list, _ := l.List(t0.Add(time.Second), 0); len(list) != 1 {
		t.Errorf("List since = %+v", list)
	}
	if list, _ := l.List(time.Time{}, 1); len(list) != 1 || list[0].Event.ID != "test/1" {
		t.Errorf("List limit 1 = %+v", list)
	}

	if _, ok, _ := l.Condition("watcher_down/INBOX"); ok {
		t.Error("condition active before it was set")
	}
	l.SetCondition("watcher_down/INBOX", Condition{Since: t0, Alert: "watcher_down/INBOX/1"})
	if c, ok, err := l.Condition("watcher_down/INBOX"); !ok || err != nil || !c.Since.Equal(t0) || c.Alert != "watcher_down/INBOX/1" {
		t.Errorf("Condition = %+v %v %v", c, ok, err)
	}
	l.ClearCondition("watcher_down/INBOX")
	if _, ok, _ := l.Condition("watcher_down/INBOX"); ok {
		t.Error("condition still active after Clear")
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}
