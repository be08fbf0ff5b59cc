package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// Chunks: the buckets raw_inquiries, raw_replies and raw_unmatched hold their copies in
// chunks of consecutive copies, each chunk about one page. bbolt splits a page only when
// it overflows and keeps at least two values on the right of every split, so values of
// a few hundred bytes to a few KB, one per key, leave pages a third empty whatever the
// fill setting (4 KB pages of 1.2 KB replies stayed 62% full); a chunk fills its page.
//
// A chunk's key is the number of its first copy (8 bytes big-endian); its value is
// rawChunkMark, then for each copy in ascending order its number less the chunk's key
// (uvarint), its length (uvarint) and its value (the raw value of mail.go). Every copy
// of a chunk is below the next chunk's key. A new copy goes at the end of the last chunk
// while the chunk stays within rawChunkTarget of the page size, else it starts a chunk;
// a copy written again, deleted (moved by a link) or put among older ones rewrites the
// chunk that holds its number. A copy larger than a page is a chunk alone.
const rawChunkMark = 0xC5

// chunkedBucket reports whether bucket name keeps its copies in chunks.
func chunkedBucket(name []byte) bool {
	return bytes.Equal(name, bRawInquiries) || bytes.Equal(name, bRawReplies) || bytes.Equal(name, bRawUnmatched)
}

// rawChunkTarget is the most a chunk grows to by appending, for page size ps: 16 KB
// (four pages of a file with the operating system's 4 KB pages, one of a new file), less
// the page header (16 B), the leaf element (16 B) and the key (8 B). In 4 KB pages a
// chunk of one page would hold three copies of 1.2 KB, or two, and stay 75–85% full;
// bbolt writes a chunk larger than a page to contiguous pages of its own, so a
// four-page chunk is as full as the copies leave it, about 95%.
func rawChunkTarget(ps int) int { return max(ps, rawChunkBytes) - 40 }

// rawChunkBytes is the least size of a chunk's pages (see rawChunkTarget).
const rawChunkBytes = 16 << 10

// chunkEntry is one copy of a chunk.
type chunkEntry struct {
	n uint64
	v []byte
}

// parseChunk decodes the chunk under key k.
func parseChunk(k, v []byte) ([]chunkEntry, error) {
	if len(k) != 8 || len(v) == 0 || v[0] != rawChunkMark {
		return nil, fmt.Errorf("raw copies: the chunk at key %x is not one (the file is damaged; restore it from a backup)", k)
	}
	first := binary.BigEndian.Uint64(k)
	var out []chunkEntry
	for p := v[1:]; len(p) > 0; {
		d, m := binary.Uvarint(p)
		if m <= 0 {
			return nil, fmt.Errorf("raw copies: the chunk at key %x is damaged (bad number); restore the file from a backup", k)
		}
		p = p[m:]
		l, m := binary.Uvarint(p)
		if m <= 0 || l > uint64(len(p)-m) {
			return nil, fmt.Errorf("raw copies: the chunk at key %x is damaged (bad length); restore the file from a backup", k)
		}
		p = p[m:]
		out = append(out, chunkEntry{n: first + d, v: p[:l]})
		p = p[l:]
	}
	if len(out) == 0 || out[0].n != first {
		return nil, fmt.Errorf("raw copies: the chunk at key %x is damaged (its first copy is not its key); restore the file from a backup", k)
	}
	return out, nil
}

// encodeChunk returns the key and value of a chunk of es (ascending, not empty).
func encodeChunk(es []chunkEntry) ([]byte, []byte) {
	first := es[0].n
	v := []byte{rawChunkMark}
	for _, e := range es {
		v = binary.AppendUvarint(v, e.n-first)
		v = binary.AppendUvarint(v, uint64(len(e.v)))
		v = append(v, e.v...)
	}
	return u64(first), v
}

// chunkSize is the encoded size of es.
func chunkSize(es []chunkEntry) int {
	n := 1
	for _, e := range es {
		n += uvarintLen(e.n-es[0].n) + uvarintLen(uint64(len(e.v))) + len(e.v)
	}
	return n
}

func uvarintLen(x uint64) int { return len(binary.AppendUvarint(nil, x)) }

// findChunk returns the key and copies of the chunk that holds or would hold copy n:
// the one with the greatest key not above n; nil when there is none.
func findChunk(b *bbolt.Bucket, n uint64) ([]byte, []chunkEntry, error) {
	c := b.Cursor()
	k, v := c.Seek(u64(n))
	if k == nil {
		k, v = c.Last()
	} else if binary.BigEndian.Uint64(k) > n {
		k, v = c.Prev()
	}
	if k == nil {
		return nil, nil, nil
	}
	es, err := parseChunk(k, v)
	if err != nil {
		return nil, nil, err
	}
	return bytes.Clone(k), es, nil
}

// chunkGet returns a copy of copy n's value, or nil.
func chunkGet(b *bbolt.Bucket, n uint64) ([]byte, error) {
	_, es, err := findChunk(b, n)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.n == n {
			return bytes.Clone(e.v), nil
		}
	}
	return nil, nil
}

// chunkPut stores v as copy n, in page size ps.
func chunkPut(b *bbolt.Bucket, n uint64, v []byte, ps int) error {
	k, es, err := findChunk(b, n)
	if err != nil {
		return err
	}
	if es == nil || (n > es[len(es)-1].n && chunkSize(append(slices.Clip(es), chunkEntry{n: n, v: v})) > rawChunkTarget(ps)) {
		nk, nv := encodeChunk([]chunkEntry{{n: n, v: v}})
		return b.Put(nk, nv)
	}
	i := 0
	for i < len(es) && es[i].n < n {
		i++
	}
	if i < len(es) && es[i].n == n {
		es[i].v = v
	} else {
		es = append(es[:i], append([]chunkEntry{{n: n, v: v}}, es[i:]...)...)
	}
	_, nv := encodeChunk(es)
	return b.Put(k, nv)
}

// chunkDelete removes copy n; a chunk left empty goes, and one that lost its first copy
// moves to the key of its new first.
func chunkDelete(b *bbolt.Bucket, n uint64) error {
	k, es, err := findChunk(b, n)
	if err != nil || es == nil {
		return err
	}
	i := 0
	for i < len(es) && es[i].n != n {
		i++
	}
	if i == len(es) {
		return nil
	}
	es = append(es[:i], es[i+1:]...)
	if len(es) == 0 || es[0].n != binary.BigEndian.Uint64(k) {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	if len(es) == 0 {
		return nil
	}
	nk, nv := encodeChunk(es)
	return b.Put(nk, nv)
}
