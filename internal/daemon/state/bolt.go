package state

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is a Store in a bbolt file: buckets "veth" (id → JSON VEth),
// "counters" (id → JSON Counters), "vnic" (name → JSON VNIC) and "meta"
// ("next" → the last vEth id, 4 bytes big-endian). bbolt holds an
// exclusive lock on the file while open, so two daemons cannot share one
// by mistake; the kernel drops the lock when a daemon dies.
type Bolt struct {
	db *bolt.DB
}

var (
	bVEth     = []byte("veth")
	bCounters = []byte("counters")
	bVNIC     = []byte("vnic")
	bMeta     = []byte("meta")
	kNext     = []byte("next")
	kProfiles = []byte("profiles")
	kBase     = []byte("profiles-base")
)

// OpenBolt opens (or creates) the store at path, waiting at most a second
// for another process's lock.
func OpenBolt(path string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bVEth, bCounters, bVNIC, bMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state: %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

func idKey(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }

// Load implements Store.
func (s *Bolt) Load() (*Snapshot, error) {
	snap := &Snapshot{Counters: map[uint32]Counters{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if v := meta.Get(kNext); len(v) == 4 {
			snap.Next = binary.BigEndian.Uint32(v)
		}
		snap.Profiles, snap.ProfilesBase = string(meta.Get(kProfiles)), string(meta.Get(kBase))
		if err := tx.Bucket(bVEth).ForEach(func(k, v []byte) error {
			var r VEth
			if err := json.Unmarshal(v, &r); err != nil || len(k) != 4 || r.ID != binary.BigEndian.Uint32(k) {
				return fmt.Errorf("%w: veth %x", ErrCorrupt, k)
			}
			snap.VEths = append(snap.VEths, r)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bCounters).ForEach(func(k, v []byte) error {
			var c Counters
			if err := json.Unmarshal(v, &c); err != nil || len(k) != 4 {
				return fmt.Errorf("%w: counters %x", ErrCorrupt, k)
			}
			snap.Counters[binary.BigEndian.Uint32(k)] = c
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bVNIC).ForEach(func(k, v []byte) error {
			var n VNIC
			if err := json.Unmarshal(v, &n); err != nil || n.Name != string(k) {
				return fmt.Errorf("%w: vnic %q", ErrCorrupt, k)
			}
			snap.VNICs = append(snap.VNICs, n)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func (s *Bolt) put(bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, b) })
}

// PutVEth implements Store.
func (s *Bolt) PutVEth(v VEth) error { return s.put(bVEth, idKey(v.ID), v) }

// DeleteVEth implements Store: the vEth and its counters.
func (s *Bolt) DeleteVEth(id uint32) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bVEth).Delete(idKey(id)); err != nil {
			return err
		}
		return tx.Bucket(bCounters).Delete(idKey(id))
	})
}

// PutNext implements Store.
func (s *Bolt) PutNext(id uint32) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kNext, idKey(id)) })
}

// PutCounters implements Store, in one transaction; counters of vEths not
// in the table (deleted meanwhile) are not written.
func (s *Bolt) PutCounters(c map[uint32]Counters) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		veths, cb := tx.Bucket(bVEth), tx.Bucket(bCounters)
		for id, v := range c {
			if veths.Get(idKey(id)) == nil {
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := cb.Put(idKey(id), b); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutProfiles implements Store.
func (s *Bolt) PutProfiles(running, base string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if err := meta.Put(kProfiles, []byte(running)); err != nil {
			return err
		}
		return meta.Put(kBase, []byte(base))
	})
}

// PutVNIC implements Store.
func (s *Bolt) PutVNIC(n VNIC) error { return s.put(bVNIC, []byte(n.Name), n) }

// DeleteVNIC implements Store.
func (s *Bolt) DeleteVNIC(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bVNIC).Delete([]byte(name)) })
}

// Close implements Store.
func (s *Bolt) Close() error { return s.db.Close() }

var _ Store = (*Bolt)(nil)
