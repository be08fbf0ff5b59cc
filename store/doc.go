// Package store keeps supportprobe's history in one bbolt file: every probe with the terms
// it was measured against, every reply with its decided kind, reason and matching rung,
// the raw bytes of every inquiry as sent and every reply as fetched, unmatched mail, the
// IMAP sync position of each folder and where each folder stood at every send, and the
// weekly summaries already sent.
//
// Nothing derived (status, latency, SLA state) is stored: probe.Measure recomputes it from
// what is here, so a manual correction or a fix to the arithmetic changes every figure
// consistently, and every figure can be reproduced from the file.
//
// # Buckets
//
//	meta                       schema_version → uint64 BE
//	                           message_id_key → 32 random bytes (HMAC key of our Message-IDs)
//	probes                     created_at ns (8 B BE) | seq (8 B BE) → probe record (no replies;
//	                           codec.go; JSON before schema version 8)
//	probe_ids                  probe id → probes key
//	idx_vendor_time            vendor | 0x00 | probes key → (empty)
//	idx_message_id             message ID (lower case, no brackets) → probe id
//	                           (ours and our follow-ups', and every vendor ID in the
//	                           probe's thread)
//	idx_token                  probe token → probe id
//	idx_ticket                 vendor | 0x00 | ticket key → probe id
//	replies                    probes key | seq (8 B BE) → reply record (codec.go)
//	reply_ids                  reply id → replies key
//	seen                       inbound Message-ID → reply or unmatched id (one record per
//	                           message, even when it sits in two folders)
//	unmatched                  detected_at ns (8 B BE) | seq (8 B BE) → unmatched JSON
//	unmatched_ids              unmatched id → unmatched key
//	raw                        "inquiry/" probe id | "inquiry/" probe id "/followup/" n |
//	                           "reply/" reply id | "unmatched/" id → raw message: gzip
//	                           (format 1, older versions) or zstd with the id of its
//	                           dictionary (format 2; see rawFormat in mail.go); follow-ups
//	                           themselves live in the probe record
//	raw_dicts                  dictionary id (4 B BE) → zstd dictionary of raw copies,
//	                           never deleted (see dict.go); created by the first training
//	raw_dict_info              dictionary id (4 B BE) → RawDict JSON (what it was trained
//	                           on, how well it did on held-out mail)
//	mailboxes                  folder name → {uidvalidity, last_uid} JSON
//	                           0x00 "role" 0x00 entry (`\Junk`) → folder name JSON: the
//	                           folder a special-use entry named at the last connection
//	summaries                  ISO week ("2026-W48") → summary JSON
//	fires                      job | 0x00 | scheduled_at ns (8 B BE) → probe.Fire JSON
//	fire_marks                 job → ns (8 B BE): fires up to here were handled
//	pending                    probe id → (empty), while the probe is in state sending
//	folder_marks               folder | 0x00 | at ns (8 B BE) → {uidvalidity, uidnext} JSON:
//	                           where the folder stood just before a send (see FolderMark)
//	pauses                     vendor | 0x00 | from ns (8 B BE) → probe.Pause JSON: pauses
//	                           set by hand, kept after they end (see SetPause)
//
// Keys that must sort by time are fixed-width big-endian integers, so a time range is one
// cursor seek and a forward scan. Values are copied out before a transaction ends.
//
// # Versions
//
// The meta bucket holds the schema version. Opening runs the pending migrations, in
// order, in one transaction; a file written by a newer supportprobe is refused with
// ErrTooNew rather than misread.
package store
