package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// TestCodecSharedTerms checks probe format version 2: a probe with every field set
// decodes to what JSON would give; probes with the same terms share one entry of the
// terms bucket and their records are smaller by about the terms; a record whose terms
// are missing, or cut short, is an error wrapping errCodec; and terms whose reference
// another encoding already holds are kept inline, still decoding the same.
func TestCodecSharedTerms(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "terms.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var p probe.Probe
	n := 0
	fillEveryField(t, reflect.ValueOf(&p).Elem(), &n)
	p.Replies = nil
	q := p
	q.ID, q.Subject = "P2", "another subject"

	err = db.Update(func(tx *bbolt.Tx) error {
		v1 := encodeProbe(p)
		v2, err := encodeProbeShared(tx, p)
		if err != nil {
			return err
		}
		vq, err := encodeProbeShared(tx, q)
		if err != nil {
			return err
		}
		if v2[1] != codecProbeVersion || v2 == nil {
			t.Fatalf("record version %d, want %d", v2[1], codecProbeVersion)
		}
		e := encoder{}
		e.terms(p.Terms)
		if saved := len(v1) - len(v2); saved != len(e.buf)-1-termsRefLen {
			t.Errorf("the shared record is %d B smaller than version 1, want the terms' %d B less the reference", saved, len(e.buf))
		}
		k := 0
		tx.Bucket(bTerms).ForEach(func(_, _ []byte) error { k++; return nil })
		if k != 1 {
			t.Errorf("terms bucket holds %d entries for two probes with the same terms, want 1", k)
		}
		for _, c := range []struct {
			v    []byte
			want probe.Probe
		}{{v2, p}, {vq, q}} {
			var got probe.Probe
			if err := unmarshalProbe(tx, c.v, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, c.want); g != w {
				t.Errorf("probe after the shared codec:\n%s\nwant\n%s", g, w)
			}
		}
		for i := 1; i < len(v2); i++ {
			var got probe.Probe
			if err := unmarshalProbe(tx, v2[:i], &got); !errors.Is(err, errCodec) {
				t.Fatalf("record cut to %d of %d bytes: error %v, want one wrapping errCodec", i, len(v2), err)
			}
		}
		var got probe.Probe
		if err := unmarshalProbe(nil, v2, &got); !errors.Is(err, errCodec) {
			t.Errorf("record decoded without its terms bucket: error %v, want one wrapping errCodec", err)
		}

		// Another encoding under the reference the next terms would take.
		r := p
		r.Terms.Deadline = 5 * time.Hour
		e = encoder{}
		e.terms(r.Terms)
		ref := sha256Prefix(e.buf)
		if err := tx.Bucket(bTerms).Put(ref, []byte("something else")); err != nil {
			return err
		}
		vr, err := encodeProbeShared(tx, r)
		if err != nil {
			return err
		}
		if len(vr) < len(v1)-1 {
			t.Errorf("a record whose terms' reference is taken is %d B, want its terms inline (%d B)", len(vr), len(v1))
		}
		got = probe.Probe{}
		if err := unmarshalProbe(tx, vr, &got); err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, got), mustJSON(t, r); g != w {
			t.Errorf("probe with inline terms:\n%s\nwant\n%s", g, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
