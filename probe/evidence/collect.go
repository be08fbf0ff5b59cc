package evidence

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// Source is what Collect reads the stored messages and the audit log from: the
// running daemon's database or the file (daemon.Source implements it).
type Source interface {
	// Raw returns a stored message: kind is "inquiry" (id a probe, or
	// "PROBE/followup/N"), "reply" or "unmatched"; one not stored is an error wrapping
	// store.ErrNotFound.
	Raw(ctx context.Context, kind, id string) (store.Raw, error)
	// AuditLog returns the whole audit log, oldest first.
	AuditLog(ctx context.Context) ([]probe.Correction, error)
}

// Collect gathers what an archive of ps holds, measured at now: each probe's record
// and its raw messages (inquiry, replies, follow-ups sent), and the audit chain with
// the entries of these probes and their vendors in full. `supportprobe export` and the
// dashboard's per-probe download both build their archive from it, then Write it.
func Collect(ctx context.Context, src Source, ps []probe.Probe, now time.Time) ([]Item, *AuditFile, error) {
	items := make([]Item, 0, len(ps))
	for _, p := range ps {
		rec, err := view.NewRecord(p, now)
		if err != nil {
			return nil, nil, err
		}
		it := Item{Record: rec, Replies: map[string]*store.Raw{}, Followups: map[int]*store.Raw{}}
		if it.Inquiry, err = rawOrNil(ctx, src, "inquiry", p.ID); err != nil {
			return nil, nil, err
		}
		for _, rp := range p.Replies {
			raw, err := rawOrNil(ctx, src, "reply", rp.ID)
			if err != nil {
				return nil, nil, err
			}
			if raw != nil {
				it.Replies[rp.ID] = raw
			}
		}
		for _, f := range p.Followups {
			raw, err := rawOrNil(ctx, src, "inquiry", fmt.Sprintf("%s/followup/%d", p.ID, f.Index))
			if err != nil {
				return nil, nil, err
			}
			if raw != nil {
				it.Followups[f.Index] = raw
			}
		}
		items = append(items, it)
	}

	// The audit chain goes in whole, the entries of these probes and vendors in full.
	log, err := src.AuditLog(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read the audit log: %w", err)
	}
	var ids, vendors []string
	for _, p := range ps {
		ids = append(ids, p.ID)
		if !slices.Contains(vendors, p.Vendor) {
			vendors = append(vendors, p.Vendor)
		}
	}
	audit, err := NewAuditFile(log, ids, vendors)
	if err != nil {
		return nil, nil, err
	}
	return items, audit, nil
}

// rawOrNil returns the stored message, or nil when the store does not hold it.
func rawOrNil(ctx context.Context, src Source, kind, id string) (*store.Raw, error) {
	raw, err := src.Raw(ctx, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	return &raw, nil
}
