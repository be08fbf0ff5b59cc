package daemon

import (
	"fmt"
	"os"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/probe/alert"
	"supportprobe/schedule"
	"supportprobe/store"
)

// Status is what `supportprobe status`, GET /v1/status and /healthz report: the daemon
// itself, its inbox watcher and SMTP server, the next fire of each vendor, and what
// waits for a person. The CLI fills the parts it can from the state directory when no
// daemon runs (Running false).
type Status struct {
	// Running is true when a daemon produced this status.
	Running bool `json:"running"`
	// PID is the daemon's process id.
	PID int `json:"pid,omitempty"`
	// Version is the running build's version.
	Version string `json:"version,omitempty"`
	// StartedAt is when the daemon's Run began.
	StartedAt time.Time `json:"started_at,omitzero"`
	// StateDir and Database are the state directory and its database file.
	StateDir string `json:"state_dir"`
	Database string `json:"database"`
	// Now is when the status was taken; next fires and waiting times are from it.
	Now time.Time `json:"now"`
	// Healthy and Unhealthy are /healthz's verdict: 200 when healthy, else 503 with the
	// reason.
	Healthy   bool   `json:"healthy"`
	Unhealthy string `json:"unhealthy,omitempty"`
	// Config is the configuration in force and the latest reload.
	Config ConfigStatus `json:"config"`
	// Folders are the watched IMAP folders; empty without an imap section.
	Folders []FolderStatus `json:"folders,omitempty"`
	// SMTP is the latest result of handing an inquiry to the SMTP server; nil before
	// the first since the daemon started.
	SMTP *SMTPStatus `json:"smtp,omitempty"`
	// SchedulesOff is true when the daemon runs with --no-schedules.
	SchedulesOff bool           `json:"schedules_off,omitempty"`
	Vendors      []VendorStatus `json:"vendors"`
	// OpenProbes counts probes sent and still waiting for a person's answer before
	// their deadline; PastTarget lists those of them already past their SLA target.
	OpenProbes int      `json:"open_probes"`
	PastTarget []string `json:"past_target"`
	// Unmatched counts mail no probe matched (`inbox --unmatched`); NeedsReview counts
	// replies waiting for a person's decision (`review`).
	Unmatched   int `json:"unmatched"`
	NeedsReview int `json:"needs_review"`
	// Error says what could not be read (the database, say); the other fields still
	// hold what could.
	Error string `json:"error,omitempty"`
	// Alerts is each alert channel's state: deliveries, failures, whether it is failing.
	Alerts []alert.ChannelStatus `json:"alerts"`
	// AlertsPending are the deliveries of raised alerts that no channel has taken yet
	// (still being retried), oldest first.
	AlertsPending []PendingAlert `json:"alerts_pending"`
}

// PendingAlert is one alert not yet delivered on one channel.
type PendingAlert struct {
	// ID and Event are the alert's identity and kind (as in `alerts list`); Channel
	// is the channel that has not taken it.
	ID      string `json:"id"`
	Event   string `json:"event"`
	Channel string `json:"channel"`
	// RaisedAt is when the alert was raised; Attempts, LastError and NextTry are its
	// delivery on Channel so far.
	RaisedAt  time.Time `json:"raised_at"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	NextTry   time.Time `json:"next_try,omitzero"`
}

// ConfigStatus describes the configuration in force.
type ConfigStatus struct {
	File string `json:"file"`
	// LoadedAt is when it was read (at start or by the latest successful reload);
	// SHA256 is the file's digest then, so the CLI can tell an edit not yet reloaded.
	LoadedAt time.Time `json:"loaded_at,omitzero"`
	SHA256   string    `json:"sha256,omitempty"`
	// LastReload is the latest reload's outcome, refused ones included; nil before the
	// first.
	LastReload *ReloadResult `json:"last_reload,omitempty"`
}

// FolderStatus is one watched IMAP folder.
type FolderStatus struct {
	// Name is the folder's name on the server. For an entry of mail.imap.folders that
	// is a special-use attribute (\Junk) it is the folder the watcher found for it, or
	// the attribute itself until the watcher has connected or when it found none.
	Name string `json:"name"`
	// Entry is the mail.imap.folders entry when it is an attribute, "" for a folder
	// named in the file; Chosen says how its folder was found: "SPECIAL-USE", "no
	// folder marked; found by its usual name", "no folder marked, none of the usual
	// names", or "" while not known (no watcher connected yet).
	Entry  string `json:"entry,omitempty"`
	Chosen string `json:"chosen,omitempty"`
	// Mode is "idle" (the server pushes new mail), "polled" (read at each sync, which
	// a push on the idling folder also starts), "disconnected" (the watcher is
	// reconnecting), "not_found" (an attribute entry that names no folder, looked for
	// at every sync), or "not_watched" (no watcher runs: no daemon, or not started yet).
	Mode string `json:"mode"`
	// LastSync is when the watcher last read every folder; zero before the first.
	LastSync time.Time `json:"last_sync,omitzero"`
	// LastUID and UIDValidity are how far the folder has been read, as stored.
	LastUID     uint32 `json:"last_uid"`
	UIDValidity uint32 `json:"uid_validity,omitempty"`
	// LastError is the watcher's latest failure, when it came after the last sync.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// SMTPStatus is the result of the latest inquiry handed to the SMTP server.
type SMTPStatus struct {
	// At is when the server answered (or the attempt gave up); OK whether it accepted.
	At time.Time `json:"at"`
	OK bool      `json:"ok"`
	// Probe is the probe whose inquiry it was; Error the failure, when not OK.
	Probe string `json:"probe,omitempty"`
	Error string `json:"error,omitempty"`
}

// VendorStatus is a vendor's next scheduled fire, in UTC and in its schedule's zone.
type VendorStatus struct {
	// Name is the vendor's name in the configuration.
	Name string `json:"name"`
	// NextFire is zero when the vendor has no schedule (or schedules are off); Zone
	// and NextFireLocal are the zone of the schedule that fires next and the time there.
	NextFire      time.Time `json:"next_fire,omitzero"`
	Zone          string    `json:"zone,omitempty"`
	NextFireLocal string    `json:"next_fire_local,omitempty"`
	// Job is the schedule that fires next ("vendor/index").
	Job string `json:"job,omitempty"`
}

// Snapshot fills the parts of a Status that come from the configuration and the
// database: the vendors' next fires, the folders' stored positions, open probes and
// those past target, unmatched mail and replies awaiting review. The daemon and the
// CLI (with no daemon running) share it, so both count the same way.
func Snapshot(db *store.DB, cfg *configs.Config, now time.Time, schedulesOff bool) (Status, error) {
	st := Status{StateDir: cfg.StateDir, Database: db.Path(), Now: now.UTC(), SchedulesOff: schedulesOff,
		PastTarget: []string{}, Vendors: []VendorStatus{}, Alerts: []alert.ChannelStatus{}, AlertsPending: []PendingAlert{}}
	st.Config.File = cfg.Path
	for _, v := range cfg.Vendors {
		vs := VendorStatus{Name: v.Name}
		if !schedulesOff {
			for i, s := range v.Schedules {
				spec, err := schedule.Parse(s.Spec, s.Location)
				if err != nil {
					return st, fmt.Errorf("vendor %s: schedules[%d]: %w", v.Name, i, err)
				}
				if next := spec.Next(now); !next.IsZero() && (vs.NextFire.IsZero() || next.Before(vs.NextFire)) {
					vs.NextFire, vs.Zone, vs.Job = next.UTC(), s.Location.String(), jobID(v.Name, i)
					vs.NextFireLocal = next.In(s.Location).Format("2006-01-02 15:04 MST")
				}
			}
		}
		st.Vendors = append(st.Vendors, vs)
	}
	if cfg.Mail.IMAP.Host != "" {
		for _, f := range cfg.Mail.IMAP.Folders {
			if _, special, _ := mailbox.SpecialUseEntry(f); special {
				// Which folder it names is only known once a watcher has listed them.
				st.Folders = append(st.Folders, FolderStatus{Name: f, Entry: f, Mode: "not_watched"})
				continue
			}
			fs, err := folderStatus(db, mailbox.WatchedFolder{Entry: f, Name: f, Chosen: mailbox.ChosenByName})
			if err != nil {
				return st, err
			}
			st.Folders = append(st.Folders, fs)
		}
	}
	ps, err := db.Probes(store.Filter{})
	if err != nil {
		return st, fmt.Errorf("read probes: %w", err)
	}
	for _, p := range ps {
		for _, r := range p.Replies {
			if r.EffectiveKind() == probe.KindNeedsReview {
				st.NeedsReview++
			}
		}
		if p.State != probe.StateSent {
			continue
		}
		m, err := probe.Measure(p, now)
		if err != nil {
			return st, fmt.Errorf("probe %s: measure: %w", p.ID, err)
		}
		if m.Status != probe.StatusSent && m.Status != probe.StatusAcknowledged {
			continue
		}
		st.OpenProbes++
		if m.SLA == probe.SLAOpenBreached {
			st.PastTarget = append(st.PastTarget, p.ID)
		}
	}
	um, err := db.UnmatchedMail(time.Time{}, time.Time{})
	if err != nil {
		return st, fmt.Errorf("read unmatched mail: %w", err)
	}
	st.Unmatched = len(um)
	// Every delivery still being tried, whenever its next attempt falls due.
	recs, err := db.Alerts().Due(now.AddDate(100, 0, 0))
	if err != nil {
		return st, err
	}
	for _, r := range recs {
		for _, dl := range r.Deliveries {
			if !dl.Done() {
				st.AlertsPending = append(st.AlertsPending, PendingAlert{ID: r.Event.ID, Event: string(r.Event.Event), Channel: dl.Channel,
					RaisedAt: r.RaisedAt, Attempts: dl.Attempts, LastError: dl.LastError, NextTry: dl.NextTry})
			}
		}
	}
	return st, nil
}

// status is the daemon's whole Status: Snapshot plus what only the running daemon
// knows (its watcher, SMTP results, alert channels, reloads, health).
func (d *Daemon) status() (Status, error) {
	cfg := d.config()
	now := d.opts.Now()
	st, err := Snapshot(d.db, cfg, now, d.opts.NoSchedules)
	st.Running, st.PID, st.Version, st.StartedAt = true, os.Getpid(), d.version(), d.started
	st.Healthy, st.Unhealthy = d.health()
	if l := d.loaded.Load(); l != nil {
		st.Config.LoadedAt, st.Config.SHA256 = l.at.UTC(), l.digest
	}
	st.Config.LastReload = d.lastReload.Load()
	st.SMTP = d.lastSMTP.Load()
	st.Alerts = d.alerts.Status()
	if st.Alerts == nil {
		st.Alerts = []alert.ChannelStatus{}
	}
	if d.watcher.Load() != nil {
		ws := d.watchState()
		if ws.Folders != nil {
			// What the entries name on the server, as the watcher found at its connection.
			st.Folders = st.Folders[:0]
			for _, f := range ws.Folders {
				fs, ferr := folderStatus(d.db, f)
				if ferr != nil && err == nil {
					err = ferr
				}
				st.Folders = append(st.Folders, fs)
			}
		}
		for i := range st.Folders {
			f := &st.Folders[i]
			f.LastSync = ws.LastSync
			switch {
			case !ws.Connected:
				f.Mode = "disconnected"
			case f.Chosen == mailbox.ChosenNone:
				f.Mode = "not_found"
			case i == 0 && ws.Idling:
				// The watcher idles on the first folder and reads the others at each sync.
				f.Mode = "idle"
			default:
				f.Mode = "polled"
			}
			if ws.LastError != nil && ws.LastErrorAt.After(ws.LastSync) {
				f.LastError, f.LastErrorAt = ws.LastError.Error(), ws.LastErrorAt
			}
		}
	}
	return st, err
}

// folderStatus is f's status before the watcher's part: its stored position, under the
// folder's name on the server, and for an attribute entry what it named and how.
func folderStatus(db *store.DB, f mailbox.WatchedFolder) (FolderStatus, error) {
	fs := FolderStatus{Name: f.Name, Mode: "not_watched"}
	if f.Discovered() {
		fs.Entry, fs.Chosen = f.Entry, f.Chosen
	}
	if f.Name == "" {
		fs.Name = f.Entry
		return fs, nil
	}
	ms, _, err := db.Mailbox(f.Name)
	if err != nil {
		return fs, fmt.Errorf("folder %s: read its stored position: %w", f.Name, err)
	}
	fs.LastUID, fs.UIDValidity = ms.LastUID, ms.UIDValidity
	return fs, nil
}

// noteSMTP records the outcome of handing probe id's inquiry to the SMTP server.
func (d *Daemon) noteSMTP(id string, err error) {
	s := &SMTPStatus{At: d.opts.Now().UTC(), OK: err == nil, Probe: id}
	if err != nil {
		s.Error = err.Error()
	}
	d.lastSMTP.Store(s)
}
