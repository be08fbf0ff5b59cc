package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// TestRawChunksModel runs random writes, rewrites, out-of-order writes and deletions of
// copies (most a few hundred bytes to 3 KB, a few larger than a chunk) through the
// chunk layer, in 512-byte pages (chunks of 32 pages), hundreds of chunks in all, against
// a map: after every 100 operations each copy reads back exactly and no deleted one does;
// at the end every chunk is well formed, its copies ascending and below the next
// chunk's key, and chunks appended to in order are packed near their target.
func TestRawChunksModel(t *testing.T) {
	b, err := bbolt.Open(filepath.Join(t.TempDir(), "chunks.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const ps = 512
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[uint64][]byte{}
	var next uint64 = 1
	value := func(n uint64) []byte {
		v := bytes.Repeat([]byte(fmt.Sprintf("copy %d;", n)), 1+rng.IntN(300))
		if rng.IntN(50) == 0 {
			v = bytes.Repeat(v, 20) // larger than a chunk: a chunk alone
		}
		return v
	}
	for op := range 3000 {
		err := b.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bRawReplies)
			if err != nil {
				return err
			}
			bk.FillPercent = rawFill
			switch r := rng.IntN(100); {
			case r < 70 || len(model) == 0: // a new copy, at the end
				n, v := next, value(next)
				model[n] = v
				next += 1 + uint64(rng.IntN(2)) // ids skipped (mail stored nowhere else)
				return chunkPut(bk, n, v, ps)
			case r < 80: // rewritten
				n := 1 + uint64(rng.IntN(int(next)))
				if model[n] == nil {
					return nil
				}
				v := value(n)
				model[n] = v
				return chunkPut(bk, n, v, ps)
			case r < 88: // an older number not stored yet
				n := 1 + uint64(rng.IntN(int(next)))
				if model[n] != nil {
					return nil
				}
				v := value(n)
				model[n] = v
				return chunkPut(bk, n, v, ps)
			default: // moved away by a link
				n := 1 + uint64(rng.IntN(int(next)))
				delete(model, n)
				return chunkDelete(bk, n)
			}
		})
		if err != nil {
			t.Fatalf("op %d: %v", op, err)
		}
		if op%100 != 99 {
			continue
		}
		b.View(func(tx *bbolt.Tx) error {
			bk := tx.Bucket(bRawReplies)
			for n := uint64(0); n <= next; n++ {
				got, err := chunkGet(bk, n)
				if err != nil {
					t.Fatalf("op %d: copy %d: %v", op, n, err)
				}
				if !bytes.Equal(got, model[n]) {
					t.Fatalf("op %d: copy %d reads %q, want %q", op, n, got, model[n])
				}
			}
			return nil
		})
	}
	chunks, copies, small := 0, 0, 0
	b.View(func(tx *bbolt.Tx) error {
		var prevLast uint64
		c := tx.Bucket(bRawReplies).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			es, err := parseChunk(k, v)
			if err != nil {
				t.Fatal(err)
			}
			if chunks > 0 && binary.BigEndian.Uint64(k) <= prevLast {
				t.Fatalf("chunk %x starts at or below the last copy of the chunk before (%d)", k, prevLast)
			}
			for i := 1; i < len(es); i++ {
				if es[i].n <= es[i-1].n {
					t.Fatalf("chunk %x: copies out of order: %d after %d", k, es[i].n, es[i-1].n)
				}
			}
			if len(v) < rawChunkTarget(ps)/2 {
				small++
			}
			chunks, copies, prevLast = chunks+1, copies+len(es), es[len(es)-1].n
		}
		return nil
	})
	if copies != len(model) {
		t.Errorf("%d copies in chunks, want %d", copies, len(model))
	}
	t.Logf("%d copies in %d chunks, %d under half the target", copies, chunks, small)
	if chunks*2 > copies || small*3 > chunks {
		t.Errorf("%d copies in %d chunks, %d of them under half the target: not packed", copies, chunks, small)
	}
}
