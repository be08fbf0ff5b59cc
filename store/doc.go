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
//	                           migration_position → version (8 B BE) | position, while a
//	                           migration in parts is under way (migrate.go)
//	probes                     created_at ns (8 B BE) | seq (8 B BE) → probe record (no replies;
//	                           codec.go; JSON before schema version 8; since schema 10
//	                           its terms are a reference into terms)
//	terms                      8 bytes of the SHA-256 of a terms encoding → that encoding:
//	                           the terms probes share, written once, never changed or
//	                           deleted (schema 10; codec.go)
//	probe_ids                  probe number (8 B BE; 17 for P17) → probes key (schema 10;
//	                           before, the id as text, "P17"; keys.go)
//	idx_vendor_time            vendor | 0x00 | probes key → (empty)
//	idx_message_id             0x00 | first 12 bytes of the SHA-256 of the message ID
//	                           (lower case, no brackets) → probe id (ours and our
//	                           follow-ups', and every vendor ID in the probe's thread);
//	                           the message ID itself as key before schema 10 (keys.go)
//	idx_token                  probe token → probe id
//	idx_ticket                 vendor | 0x00 | ticket key → probe id
//	replies                    probes key | seq (8 B BE) → reply record (codec.go; since
//	                           schema 10 written against the probe under the key's first
//	                           16 bytes: its subject and Message-ID)
//	reply_ids                  reply number (8 B BE) → replies key (the id as text
//	                           before schema 10)
//	seen                       0x00 | 12 bytes of SHA-256 of the inbound Message-ID, as in
//	                           idx_message_id → reply or unmatched id (one record per
//	                           message, even when it sits in two folders)
//	unmatched                  detected_at ns (8 B BE) | seq (8 B BE) → unmatched JSON
//	unmatched_ids              unmatched number (8 B BE) → unmatched key (the id as
//	                           text before schema 10)
//	raw_inquiries              probe number (8 B BE; 17 for P17) of the first copy → a
//	                           chunk of consecutive raw inquiries as sent (rawchunk.go:
//	                           each copy's number, length and raw value, up to 16 KB)
//	raw_followups              probe number (8 B BE) | follow-up index (4 B BE) → raw
//	                           follow-up as sent (follow-ups themselves live in the probe
//	                           record)
//	raw_replies                reply number (8 B BE) of the first copy → a chunk of raw
//	                           replies as fetched
//	raw_unmatched              unmatched number (8 B BE) of the first copy → a chunk of
//	                           raw unmatched mail as fetched
//	                           (the four since schema version 9: keys grow with the ids,
//	                           so copies are appended in order, pages packed full)
//	raw                        "inquiry/" probe id | "inquiry/" probe id "/followup/" n |
//	                           "reply/" reply id | "unmatched/" id → the copies written
//	                           before schema version 9, left where they were and read
//	                           there. Every raw value: gzip (format 1, older versions),
//	                           zstd with the id of its dictionary (format 2), or zstd with
//	                           that dictionary extended by the bytes of the probe's
//	                           inquiry, named in the value (format 3: replies and
//	                           follow-ups); see rawFormat in mail.go
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
// order, in one transaction, except a migration too large for one (8, which rewrites
// every record, and 10, which moves every index key to its schema 10 form): it runs in parts of 10,000 records, each committed with the position of
// the next in meta, so a crash mid-way goes on from there at the next start and the
// memory it needs does not grow with the file. A file written by a newer supportprobe
// is refused with ErrTooNew rather than misread. New files have 16 KB pages (DefaultPageSize); a file
// keeps the page size it was made with.
package store
