package store

import (
	"fmt"
	"testing"

	"github.com/klauspost/compress/dict"
)

// TestBuildZstdDictNeverPanics: the dictionary builder panics on some inputs (it indexes
// out of range); a training runs in the background of the daemon, so the panic must come
// back as an error instead of ending the process.
func TestBuildZstdDictNeverPanics(t *testing.T) {
	inputs := map[string][][]byte{}
	for _, n := range []int{1, 8, 40, 160} {
		var same, short [][]byte
		for i := range n {
			same = append(same, []byte("From: a@b.example\r\nSubject: x\r\n\r\nhi\r\n"))
			short = append(short, fmt.Appendf(nil, "m%d", i))
		}
		inputs[fmt.Sprintf("%d identical", n)] = same
		inputs[fmt.Sprintf("%d tiny", n)] = short
	}
	inputs["empty samples"] = [][]byte{{}, {}, {}}
	panicked := 0
	for name, samples := range inputs {
		did := false
		func() {
			defer func() { did = recover() != nil }()
			dict.BuildZstdDict(samples, dict.Options{MaxDictSize: rawDictMaxSize, HashBytes: 6, ZstdDictID: rawDictIDBase + 1})
		}()
		_, err := buildZstdDict(samples, dict.Options{MaxDictSize: rawDictMaxSize, HashBytes: 6, ZstdDictID: rawDictIDBase + 1})
		if did {
			panicked++
			if err == nil {
				t.Errorf("%s: the builder panicked, buildZstdDict returned no error", name)
			}
		}
		t.Logf("%s: %v", name, err)
	}
	t.Logf("the builder itself panicked on %d of %d inputs; buildZstdDict returned errors instead", panicked, len(inputs))
}
