package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"supportprobe/probe"
)

// fillEveryField sets every exported leaf of v (a pointer) to a non-zero value derived
// from n, recursing into structs, pointers, slices (two elements) and maps (two
// entries), so a field the codec forgets shows up as a difference after a round trip.
func fillEveryField(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillEveryField(t, v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			// Whole seconds and nanoseconds, in UTC and at two offsets, as stored records
			// hold them.
			zones := []*time.Location{time.UTC, time.FixedZone("", 8*3600), time.FixedZone("", -5*3600-1800)}
			v.Set(reflect.ValueOf(time.Date(2026, 11, 1+*n%28, *n%24, *n%60, *n%60, *n*1013, zones[*n%3])))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillEveryField(t, v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillEveryField(t, v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillEveryField(t, k, n)
			fillEveryField(t, e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d-\u00e9\u4e2d\x00\"", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(-*n * 1_000_003))
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(*n) * 4_000_037)
	case reflect.Float64:
		v.SetFloat(float64(*n) / 7)
	default:
		t.Fatalf("fillEveryField: no filler for %s (%s): teach the test and the codec this field", v.Type(), v.Kind())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCodecCoversEveryField encodes a probe and a reply with every field set and checks
// that decoding gives back exactly what JSON would: a field added to probe.Probe or
// probe.Reply without being added to the codec fails here.
func TestCodecCoversEveryField(t *testing.T) {
	var p probe.Probe
	n := 0
	fillEveryField(t, reflect.ValueOf(&p).Elem(), &n)
	p.Replies = nil // replies are records of their own
	var r probe.Reply
	fillEveryField(t, reflect.ValueOf(&r).Elem(), &n)

	var gotP probe.Probe
	if err := decodeProbeBinary(encodeProbe(p), &gotP, nil); err != nil {
		t.Fatalf("decode probe: %v", err)
	}
	if got, want := mustJSON(t, gotP), mustJSON(t, p); got != want {
		t.Errorf("probe after the codec:\n%s\nwant\n%s", got, want)
	}
	var gotR probe.Reply
	if err := decodeReplyBinary(encodeReply(r), &gotR, nil); err != nil {
		t.Fatalf("decode reply: %v", err)
	}
	if got, want := mustJSON(t, gotR), mustJSON(t, r); got != want {
		t.Errorf("reply after the codec:\n%s\nwant\n%s", got, want)
	}
}

// TestCodecMatchesJSON checks, record by record, that what JSON decoding gives and what
// the codec gives after re-encoding are the same probe: zero and non-zero times,
// nil and empty lists, absent and present optional parts.
func TestCodecMatchesJSON(t *testing.T) {
	sent := time.Date(2026, 11, 20, 3, 4, 5, 123456789, time.UTC)
	probes := map[string]probe.Probe{
		"zero":         {},
		"empty to":     {ID: "P1", To: []string{}},
		"sent, skewed": {ID: "P2", Vendor: "acme", To: []string{"support@acme.example"}, SentAt: sent, ClockSkew: -1500 * time.Millisecond, SkewMeasured: true, State: probe.StateSent},
		"offset times": {ID: "P3", CreatedAt: sent.In(time.FixedZone("CST", 8*3600)), ScheduledAt: sent.In(time.FixedZone("", -3*3600))},
		"local time":   {ID: "P4", CreatedAt: sent.In(time.Local)},
		"script terms, empty": {ID: "P5", Terms: probe.Terms{Deadline: 72 * time.Hour, Script: &probe.ScriptTerms{Followups: []probe.StoredFollowup{}},
			Hours: probe.HoursSpec{Zone: "Asia/Shanghai", Days: []string{"mon", "fri"}, Open: "09:00", Close: "18:00"}}},
		"sla": {ID: "P6", Terms: probe.Terms{SLA: &probe.SLATarget{FirstResponse: time.Hour, Clock: "business"}}},
	}
	for name, p := range probes {
		t.Run("probe "+name, func(t *testing.T) {
			raw := mustJSON(t, p)
			var viaJSON, viaCodec probe.Probe
			if err := unmarshalProbe(nil, []byte(raw), &viaJSON); err != nil {
				t.Fatal(err)
			}
			if err := unmarshalProbe(nil, encodeProbe(viaJSON), &viaCodec); err != nil {
				t.Fatal(err)
			}
			if got, want := mustJSON(t, viaCodec), mustJSON(t, viaJSON); got != want {
				t.Errorf("codec gives\n%s\nJSON gives\n%s", got, want)
			}
			if !viaCodec.CreatedAt.Equal(viaJSON.CreatedAt) || viaCodec.CreatedAt.Location().String() != viaJSON.CreatedAt.Location().String() {
				t.Errorf("CreatedAt = %v, want %v", viaCodec.CreatedAt, viaJSON.CreatedAt)
			}
		})
	}
	replies := map[string]probe.Reply{
		"zero":           {},
		"classified":     {ID: "R1", ProbeID: "P1", UID: 4294967295, ReceivedAt: sent, Kind: probe.KindHuman, Confidence: 0.875, MatchedBy: probe.RungThread},
		"overridden":     {ID: "R2", Kind: probe.KindNeedsReview, Override: &probe.Override{Kind: probe.KindAutoAck, At: sent}},
		"learned, empty": {ID: "R3", Learned: &probe.Learned{}},
		"auth, unsigned": {ID: "R4", Auth: &probe.Auth{CheckedAt: sent, Signatures: []probe.Signature{}, Attempts: 1}},
	}
	for name, r := range replies {
		t.Run("reply "+name, func(t *testing.T) {
			raw := mustJSON(t, r)
			var viaJSON, viaCodec probe.Reply
			if err := unmarshalReplyIn([]byte(raw), &viaJSON, nil); err != nil {
				t.Fatal(err)
			}
			if err := unmarshalReplyIn(encodeReply(viaJSON), &viaCodec, nil); err != nil {
				t.Fatal(err)
			}
			if got, want := mustJSON(t, viaCodec), mustJSON(t, viaJSON); got != want {
				t.Errorf("codec gives\n%s\nJSON gives\n%s", got, want)
			}
		})
	}
}

// TestCodecDamaged feeds every truncation of a full record, and records with a wrong
// header, to the decoders: each must fail with errCodec, never panic or succeed.
func TestCodecDamaged(t *testing.T) {
	var p probe.Probe
	n := 0
	fillEveryField(t, reflect.ValueOf(&p).Elem(), &n)
	p.Replies = nil
	var r probe.Reply
	fillEveryField(t, reflect.ValueOf(&r).Elem(), &n)
	for _, c := range []struct {
		name   string
		full   []byte
		decode func([]byte) error
		newest byte // the newest format version of its kind
	}{
		{"probe", encodeProbe(p), func(v []byte) error { var q probe.Probe; return unmarshalProbe(nil, v, &q) }, codecProbeVersion},
		{"reply", encodeReply(r), func(v []byte) error { var q probe.Reply; return unmarshalReplyIn(v, &q, nil) }, codecVersion},
	} {
		for i := 1; i < len(c.full); i++ {
			if err := c.decode(c.full[:i]); !errors.Is(err, errCodec) {
				t.Fatalf("%s cut to %d of %d bytes: error %v, want one wrapping errCodec", c.name, i, len(c.full), err)
			}
		}
		if err := c.decode(append(c.full[:len(c.full):len(c.full)], 0)); !errors.Is(err, errCodec) {
			t.Errorf("%s with a byte left over: error %v, want one wrapping errCodec", c.name, err)
		}
		newer := append([]byte{codecMagic, c.newest + 1}, c.full[2:]...)
		if err := c.decode(newer); !errors.Is(err, errCodec) {
			t.Errorf("%s of format version %d: error %v, want one wrapping errCodec", c.name, c.newest+1, err)
		}
		if err := c.decode([]byte{0x01, 0x02}); !errors.Is(err, errCodec) {
			t.Errorf("%s of unknown encoding: error %v, want one wrapping errCodec", c.name, err)
		}
	}
}

// FuzzDecodeProbe checks that no input makes the probe decoder panic or allocate
// without bound.
func FuzzDecodeProbe(f *testing.F) {
	f.Add(encodeProbe(probe.Probe{ID: "P1", To: []string{"a@b.example"}, Terms: probe.Terms{Script: &probe.ScriptTerms{Vars: map[string]string{"a": "b"}}}}))
	f.Add(encodeReply(probe.Reply{ID: "R1", Auth: &probe.Auth{Signatures: []probe.Signature{{Domain: "x"}}}}))
	f.Fuzz(func(t *testing.T, v []byte) {
		var p probe.Probe
		if err := unmarshalProbe(nil, v, &p); err == nil && len(v) > 0 && v[0] == codecMagic {
			var again probe.Probe
			if err := decodeProbeBinary(encodeProbe(p), &again, nil); err != nil {
				t.Fatalf("re-encoding a decoded probe: %v", err)
			}
		}
		var r probe.Reply
		_ = unmarshalReplyIn(v, &r, nil)
	})
}
