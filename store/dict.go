package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"
	"go.etcd.io/bbolt"
)

// Raw copies are compressed with zstd and a dictionary trained on the mail the store
// already holds (format 2, see encodeRaw). The dictionaries live in the raw_dicts bucket
// (id, 4 bytes big-endian → the zstd dictionary) with what each was trained on in
// raw_dict_info (id → JSON RawDict). Both buckets are created by the first training, so
// a file without them simply has no dictionary yet. A dictionary is never deleted: every
// copy records the id it was compressed with, and stays decodable for as long as the
// file exists. The newest dictionary is the one new copies use.
//
// When to train (the policy, measured in store/rawdict_bench_test.go):
//   - the first dictionary once the store holds rawTrainMin copies (before that, copies
//     are zstd without a dictionary);
//   - a new one when the mail changes a lot: over the last rawDriftWindow copies written
//     by this process, compressed bytes over raw bytes is more than rawDriftFactor times
//     the ratio the current dictionary reached on held-out mail when it was trained. The
//     new dictionary is kept only if it beats the current one on the newest mail by
//     rawKeepGain; otherwise the current one stays and the drift baseline moves to what it
//     reaches on that mail, so a store whose mail is just less compressible does not
//     retrain every window.
//     Replies and follow-ups compressed against their inquiry (format 3, mail.go) count
//     in the window at the size they are stored at, smaller than the dictionary alone
//     makes them, so the check errs toward training later, not more often.
//
// Training reads the newest copies (rawTrainSamples, every fifth held out to measure the
// result), runs zstd's dictionary builder in the background (seconds on a busy 2-core
// machine), then stores the dictionary in one transaction; writes go on meanwhile with
// the previous dictionary. Close waits for a training under way.
//
// Copies gzip'd by older versions are not recompressed: no migration rewrites evidence.
// Migrations run at Open, and recompressing a year of copies (GBs) there would hold the
// daemon's start for minutes, for a saving that new mail brings
// anyway; the old copies stay exactly as they were stored and read as before.
const (
	rawTrainMin     = 200
	rawTrainSamples = 300
	rawSampleMax    = 16 << 10 // only the start of a sample shapes the dictionary
	rawDictMaxSize  = 64 << 10
	rawDriftWindow  = 500
	rawDriftFactor  = 1.2
	rawKeepGain     = 0.95
	// rawDictIDBase keeps the ids in zstd's range for private dictionaries (below 32768
	// is reserved for a registrar); the store's id and the frame's id are the same number.
	rawDictIDBase = 1 << 15
)

var (
	bRawDicts    = []byte("raw_dicts")
	bRawDictInfo = []byte("raw_dict_info")
)

// rawLevel is the zstd level of raw copies. Better levels gain 3–8% on mail but take
// 3 to 60 times as long with a pooled encoder, and tens of MB while they run.
const rawLevel = zstd.SpeedDefault

// rawRefLevel is the zstd level of copies compressed against another copy (format 3).
// Their encoder is built for each copy, which costs about 20 ms and 11 MB at rawLevel
// and the same time and 17 MB at this level (measured on a 2-core machine), for
// copies 6% smaller; the daemon stores a reply minutes apart.
const rawRefLevel = zstd.SpeedBetterCompression

// RawDict describes one stored compression dictionary of raw copies.
type RawDict struct {
	ID        uint32    `json:"id"`
	TrainedAt time.Time `json:"trained_at"`
	Size      int       `json:"size"`    // bytes of the dictionary
	Samples   int       `json:"samples"` // copies it was trained on
	// HeldOut is compressed over raw bytes of the held-out copies with this dictionary:
	// the baseline against which drift is measured.
	HeldOut float64 `json:"held_out_ratio"`
	// Previous is what the dictionary it replaced reached on the same held-out copies
	// (0 for the first).
	Previous float64 `json:"previous_ratio,omitempty"`
}

// rawCodec holds the dictionaries of one open database and its compressors. Encoders and
// decoders sit in pools, which the garbage collector empties when the daemon is idle:
// a zstd encoder holds about 2 MB of tables.
type rawCodec struct {
	db *DB

	mu       sync.Mutex
	loaded   bool
	dicts    map[uint32][]byte
	decoders map[uint32]*sync.Pool
	cur      uint32     // 0: no dictionary yet
	enc      *sync.Pool // encoders of cur
	encDict  []byte     // cur's dictionary
	info     RawDict    // of cur
	baseline float64    // drift baseline; info.HeldOut unless moved
	copies   int        // copies known to be stored, counted up to rawTrainMin
	nextTry  int        // after a failed first training: copies before the next
	winRaw   int64      // the drift window
	winZ     int64
	winN     int
	training bool
	lastErr  error
	wg       sync.WaitGroup
	trainMu  sync.Mutex // one training at a time

	// legacy makes new copies gzip'd alone without training (format 1), for the
	// benchmark's before-and-after and the tests of old files.
	legacy atomic.Bool
	// defaultFill leaves the raw buckets at bbolt's default fill, for the benchmark's
	// before-and-after.
	defaultFill atomic.Bool
	// legacyKeys puts new copies in the raw bucket under their names ("reply/R40"), as
	// versions before schema 9 did, for the benchmark and the tests of migration 9.
	legacyKeys atomic.Bool
	// noRef stores every copy on its own (format 2), never against the inquiry it
	// answers, for the benchmark's before-and-after.
	noRef atomic.Bool
}

func (db *DB) codec() *rawCodec {
	db.rawOnce.Do(func() { db.rawc = &rawCodec{db: db} })
	return db.rawc
}

// load reads the stored dictionaries, once.
func (c *rawCodec) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return nil
	}
	return c.reloadLocked()
}

func (c *rawCodec) reloadLocked() error {
	dicts := map[uint32][]byte{}
	var info RawDict
	copies := 0
	err := c.db.bolt.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bRawDicts); b != nil {
			if err := b.ForEach(func(k, v []byte) error {
				if len(k) != 4 {
					return fmt.Errorf("bad key %x", k)
				}
				dicts[binary.BigEndian.Uint32(k)] = bytes.Clone(v)
				return nil
			}); err != nil {
				return err
			}
			if k, _ := b.Cursor().Last(); k != nil {
				v := tx.Bucket(bRawDictInfo).Get(k)
				if err := json.Unmarshal(v, &info); err != nil {
					return fmt.Errorf("dictionary %d: %w", binary.BigEndian.Uint32(k), err)
				}
			}
		}
		if info.ID == 0 {
			for _, name := range [][]byte{bRaw, bRawInquiries, bRawFollowups, bRawReplies, bRawUnmatched} {
				b := tx.Bucket(name)
				if b == nil {
					continue
				}
				cur := b.Cursor()
				for k, v := cur.First(); k != nil && copies < rawTrainMin; k, v = cur.Next() {
					if !chunkedBucket(name) {
						copies++
						continue
					}
					// A damaged chunk counts as one copy here: refusing to load would
					// stop every new copy from being stored; reading it says what is wrong.
					es, _ := parseChunk(k, v)
					copies += max(len(es), 1)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("database %s: read the compression dictionaries of raw copies: %w", c.db.path, err)
	}
	c.dicts, c.decoders = dicts, map[uint32]*sync.Pool{}
	c.copies = copies
	c.setCurrentLocked(info)
	c.loaded = true
	return nil
}

// setCurrentLocked makes info's dictionary (or none, for a zero info) the one new copies
// use.
func (c *rawCodec) setCurrentLocked(info RawDict) {
	c.cur, c.info, c.baseline = info.ID, info, info.HeldOut
	c.enc = &sync.Pool{}
	c.encDict = c.dicts[info.ID]
	c.winRaw, c.winZ, c.winN = 0, 0, 0
}

// compress returns the zstd frame of data with the current dictionary and its id.
func (c *rawCodec) compress(data []byte) (uint32, []byte, error) {
	if err := c.load(); err != nil {
		return 0, nil, err
	}
	c.mu.Lock()
	id, pool, d := c.cur, c.enc, c.encDict
	c.mu.Unlock()
	e, _ := pool.Get().(*zstd.Encoder)
	if e == nil {
		opts := []zstd.EOption{zstd.WithEncoderLevel(rawLevel), zstd.WithEncoderConcurrency(1)}
		if d != nil {
			opts = append(opts, zstd.WithEncoderDict(d))
		}
		var err error
		if e, err = zstd.NewWriter(nil, opts...); err != nil {
			return 0, nil, fmt.Errorf("compression dictionary %d is unusable (%v): the file is damaged; restore it from a backup", id, err)
		}
	}
	out := e.EncodeAll(data, make([]byte, 0, len(data)/2+64))
	pool.Put(e)
	return id, out, nil
}

// compressRef returns the zstd frame of data with the current dictionary extended by
// ref's bytes (format 3), and the dictionary's id. Each call builds its own encoder:
// the dictionary is another for every copy, and a copy is written minutes apart.
func (c *rawCodec) compressRef(data, ref []byte) (uint32, []byte, error) {
	if err := c.load(); err != nil {
		return 0, nil, err
	}
	c.mu.Lock()
	id, d := c.cur, c.encDict
	c.mu.Unlock()
	if id == 0 {
		return 0, nil, fmt.Errorf("no compression dictionary to extend")
	}
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(rawRefLevel), zstd.WithEncoderConcurrency(1), zstd.WithEncoderDict(refDict(d, ref)))
	if err != nil {
		return 0, nil, fmt.Errorf("compression dictionary %d is unusable (%v): the file is damaged; restore it from a backup", id, err)
	}
	defer e.Close()
	return id, e.EncodeAll(data, make([]byte, 0, len(data)/2+64)), nil
}

// refDict is dictionary d with ref appended to its content (format 3): the dictionary
// format puts the content last, so the result is a dictionary with the same id and
// entropy tables whose content ends with ref.
func refDict(d, ref []byte) []byte {
	return append(append(make([]byte, 0, len(d)+len(ref)), d...), ref...)
}

// decompress reverses compress for a frame made with dictionary id (0: none), or
// compressRef when ref is not nil.
func (c *rawCodec) decompress(id uint32, frame []byte, sizeHint int, ref []byte) ([]byte, error) {
	if err := c.load(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	pool, dict, err := c.decoderPoolLocked(id)
	if err != nil && id != 0 {
		// Trained by another handle on the same file since we loaded: read them again.
		if err = c.reloadLocked(); err == nil {
			pool, dict, err = c.decoderPoolLocked(id)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if ref != nil {
		if dict == nil {
			return nil, fmt.Errorf("compression dictionary %d is not in the database (the file is damaged or was edited; restore it from a backup)", id)
		}
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderDicts(refDict(dict, ref)))
		if err != nil {
			return nil, fmt.Errorf("compression dictionary %d is unusable (%v): the file is damaged; restore it from a backup", id, err)
		}
		defer d.Close()
		return d.DecodeAll(frame, make([]byte, 0, min(sizeHint, DefaultRawCap)))
	}
	d, _ := pool.Get().(*zstd.Decoder)
	if d == nil {
		opts := []zstd.DOption{zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true)}
		if dict != nil {
			opts = append(opts, zstd.WithDecoderDicts(dict))
		}
		if d, err = zstd.NewReader(nil, opts...); err != nil {
			return nil, fmt.Errorf("compression dictionary %d is unusable (%v): the file is damaged; restore it from a backup", id, err)
		}
	}
	defer pool.Put(d)
	return d.DecodeAll(frame, make([]byte, 0, min(sizeHint, DefaultRawCap)))
}

// decoderPoolLocked returns the pool of decoders for dictionary id, and the dictionary.
func (c *rawCodec) decoderPoolLocked(id uint32) (*sync.Pool, []byte, error) {
	d, ok := c.dicts[id]
	if id != 0 && !ok {
		return nil, nil, fmt.Errorf("compression dictionary %d is not in the database (the file is damaged or was edited; restore it from a backup)", id)
	}
	p := c.decoders[id]
	if p == nil {
		p = &sync.Pool{}
		c.decoders[id] = p
	}
	return p, d, nil
}

// wrote records a copy of raw bytes stored as z bytes, and starts a training when the
// policy above calls for one.
func (c *rawCodec) wrote(raw, z int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.legacy.Load() || c.db.readOnly {
		return
	}
	c.copies++
	if c.cur != 0 {
		c.winRaw += int64(raw)
		c.winZ += int64(z)
		c.winN++
	}
	if c.training {
		return
	}
	switch {
	case c.cur == 0 && c.copies >= max(rawTrainMin, c.nextTry):
	case c.cur != 0 && c.winN >= rawDriftWindow:
		ratio := float64(c.winZ) / float64(max(c.winRaw, 1))
		c.winRaw, c.winZ, c.winN = 0, 0, 0
		if ratio <= rawDriftFactor*c.baseline {
			return
		}
	default:
		return
	}
	c.training = true
	c.wg.Go(func() {
		_, err := c.train()
		if errors.Is(err, errNoGain) {
			err = nil // the current dictionary stays, rightly
		}
		c.mu.Lock()
		c.training, c.lastErr = false, err
		if err != nil {
			c.nextTry = c.copies + rawDriftWindow // not at every write
		}
		c.mu.Unlock()
	})
}

// close waits for a training under way.
func (c *rawCodec) close() { c.wg.Wait() }

// errNoGain means a trained dictionary did not beat the current one and was not kept.
var errNoGain = errors.New("the new dictionary does not compress the newest mail better than the current one")

// TrainRawDict trains a compression dictionary on the newest raw copies the store holds
// and makes it the one new copies use, unless it compresses them no better than the
// current one. The daemon trains by itself (see the policy in dict.go); this is for
// tests and tools. It returns the dictionary now in use.
func (db *DB) TrainRawDict() (RawDict, error) {
	c := db.codec()
	if err := c.load(); err != nil {
		return RawDict{}, err
	}
	info, err := c.train()
	if errors.Is(err, errNoGain) {
		return info, nil
	}
	return info, err
}

// RawDicts returns every stored dictionary of raw copies, oldest first.
func (db *DB) RawDicts() ([]RawDict, error) {
	var out []RawDict
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bRawDictInfo)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var d RawDict
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("dictionary %x: %w", k, err)
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: list the compression dictionaries: %w", db.path, err)
	}
	return out, nil
}

// RawTrainingErr returns why the last automatic training of a dictionary failed, or nil
// if it succeeded or none ran. A failed training costs only compression: copies go on
// with the dictionary in use, and the next drift window tries again.
func (db *DB) RawTrainingErr() error {
	c := db.codec()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// train builds a dictionary from the newest copies, measures it on held-out ones against
// the current dictionary, and stores it if it is better. It returns the dictionary in use
// afterwards.
func (c *rawCodec) train() (RawDict, error) {
	c.trainMu.Lock()
	defer c.trainMu.Unlock()
	samples, err := c.samples()
	if err != nil {
		return c.current(), err
	}
	if len(samples) < rawTrainMin/2 {
		return c.current(), fmt.Errorf("train a compression dictionary: only %d raw copies to learn from, want %d", len(samples), rawTrainMin/2)
	}
	var learn, held [][]byte
	for i, s := range samples {
		if i%5 == 4 {
			held = append(held, s)
		} else {
			learn = append(learn, s)
		}
	}
	c.mu.Lock()
	prev := c.info
	var id uint32 = rawDictIDBase + 1
	for k := range c.dicts {
		id = max(id, k+1)
	}
	c.mu.Unlock()
	d, err := buildZstdDict(learn, dict.Options{MaxDictSize: rawDictMaxSize, HashBytes: 6, ZstdDictID: id})
	if err != nil {
		return prev, fmt.Errorf("train a compression dictionary on %d raw copies: %w", len(learn), err)
	}
	ratio, err := heldOutRatio(d, held)
	if err != nil {
		return prev, fmt.Errorf("try the dictionary trained on %d raw copies: %w", len(learn), err)
	}
	var before float64
	if prev.ID != 0 {
		c.mu.Lock()
		pd := c.dicts[prev.ID]
		c.mu.Unlock()
		if before, err = heldOutRatio(pd, held); err != nil {
			return prev, fmt.Errorf("measure dictionary %d on the newest mail: %w", prev.ID, err)
		}
		if ratio > rawKeepGain*before {
			c.mu.Lock()
			c.baseline = before
			c.mu.Unlock()
			return prev, fmt.Errorf("%w (%.3f against %.3f)", errNoGain, ratio, before)
		}
	}
	info := RawDict{ID: id, TrainedAt: c.db.now().UTC(), Size: len(d), Samples: len(learn), HeldOut: ratio, Previous: before}
	err = c.db.bolt.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bRawDicts)
		if err != nil {
			return err
		}
		bi, err := tx.CreateBucketIfNotExists(bRawDictInfo)
		if err != nil {
			return err
		}
		k := binary.BigEndian.AppendUint32(nil, id)
		if b.Get(k) != nil {
			return fmt.Errorf("dictionary %d is already stored", id)
		}
		if err := b.Put(k, d); err != nil {
			return err
		}
		return putJSON(bi, k, info)
	})
	if err != nil {
		return prev, fmt.Errorf("database %s: store compression dictionary %d: %w", c.db.path, id, err)
	}
	c.mu.Lock()
	c.dicts[id] = d
	c.setCurrentLocked(info)
	c.mu.Unlock()
	return info, nil
}

func (c *rawCodec) current() RawDict {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// heldOutRatio is compressed over raw bytes of held with dictionary d.
func heldOutRatio(d []byte, held [][]byte) (float64, error) {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(rawLevel), zstd.WithEncoderConcurrency(1), zstd.WithEncoderDict(d))
	if err != nil {
		return 0, err
	}
	defer e.Close()
	var raw, z int
	var buf []byte
	for _, h := range held {
		buf = e.EncodeAll(h, buf[:0])
		raw, z = raw+len(h), z+len(buf)
	}
	return float64(z) / float64(max(raw, 1)), nil
}

// samples returns up to rawTrainSamples of the newest raw copies, decoded and cut at
// rawSampleMax: inquiries, replies and unmatched mail in turn, newest first. The buckets
// of schema 9 are read from their ends; the raw bucket of older versions, whose keys do
// not sort by time, through the sequences that numbered the copies, only when the new
// buckets hold too few.
func (c *rawCodec) samples() ([][]byte, error) {
	var enc [][]byte
	err := c.db.bolt.View(func(tx *bbolt.Tx) error {
		var lists [][][]byte // per bucket, newest first
		for _, name := range [][]byte{bRawInquiries, bRawReplies, bRawUnmatched} {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			var l [][]byte
			cur := b.Cursor()
			for k, v := cur.Last(); k != nil && len(l) < rawTrainSamples; k, v = cur.Prev() {
				es, err := parseChunk(k, v)
				if err != nil {
					return err
				}
				for i := len(es) - 1; i >= 0 && len(l) < rawTrainSamples; i-- {
					l = append(l, bytes.Clone(es[i].v))
				}
			}
			lists = append(lists, l)
		}
		for i := 0; len(enc) < rawTrainSamples; i++ {
			took := false
			for _, l := range lists {
				if i < len(l) && len(enc) < rawTrainSamples {
					enc, took = append(enc, l[i]), true
				}
			}
			if !took {
				break
			}
		}
		raw := tx.Bucket(bRaw)
		type source struct {
			prefix string
			next   uint64
		}
		srcs := []source{
			{"inquiry/P", tx.Bucket(bProbes).Sequence()},
			{"reply/R", tx.Bucket(bReplies).Sequence()},
			{"unmatched/U", tx.Bucket(bUnmatched).Sequence()},
		}
		for tries := 0; len(enc) < rawTrainSamples && tries < 4*rawTrainSamples; {
			progressed := false
			for i := range srcs {
				s := &srcs[i]
				if s.next == 0 || len(enc) >= rawTrainSamples {
					continue
				}
				progressed = true
				tries++
				if v := raw.Get([]byte(s.prefix + strconv.FormatUint(s.next, 10))); v != nil {
					enc = append(enc, bytes.Clone(v))
				}
				s.next--
			}
			if !progressed {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(enc))
	for _, v := range enc {
		r, err := c.db.decodeRaw(v)
		if err != nil {
			return nil, fmt.Errorf("read a raw copy to train on: %w", err)
		}
		if len(r.Data) > rawSampleMax {
			r.Data = r.Data[:rawSampleMax]
		}
		out = append(out, r.Data)
	}
	return out, nil
}

// buildZstdDict runs the dictionary builder, turning a panic of it into an error: the
// builder indexes out of range on some inputs (many short, near-identical copies), and
// a training runs beside the daemon's work, which must not die of it. The copies stay as
// they are (zstd without a dictionary) and the training is tried again later.
func buildZstdDict(samples [][]byte, o dict.Options) (d []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("the dictionary builder failed on these copies: %v", r)
		}
	}()
	return dict.BuildZstdDict(samples, o)
}
