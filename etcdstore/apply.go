package etcdstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
)

// instancesPerTxn keeps an Apply transaction within etcd's default limit
// of 128 operations per transaction (--max-txn-ops): 3 reads, then up to
// 3 compares and 6 writes, per instance.
const instancesPerTxn = 20

// useKey is the key that counts u's vEth against port-profile name
// across the fleet: it exists, on the holder's lease, while a VIS holds
// the vEth. The profile's vEths are the keys under usePrefix(name).
func (r *Registry) useKey(name string, u vic.UUID) string { return r.usePrefix(name) + u.String() }

func (r *Registry) usePrefix(name string) string { return usePrefix(r.o.Prefix, name) }

func usePrefix(prefix, name string) string {
	return prefix + "veth/use/" + url.PathEscape(name) + "/"
}

// homeKey records, with no lease, that this VIS held u's vEth and where:
// a VIS that restarts with nothing of its own finds there what it held
// (Restore).
func (r *Registry) homeKey(u vic.UUID) string { return r.homePrefix() + u.String() }

func (r *Registry) homePrefix() string {
	return r.o.Prefix + "veth/home/" + url.PathEscape(r.o.VIS) + "/"
}

// current is what the read phase of Apply found of one instance.
type current struct {
	rec                       registry.Record
	exists                    bool
	recRev, bindRev, countRev int64
	bindExists                bool
	bindLease                 clientv3.LeaseID
}

func readCurrent(recKV, bindKV, countKV []*mvccpb.KeyValue) (current, error) {
	rec, bindRev, ok, err := read(recKV, bindKV, countKV)
	c := current{rec: rec, exists: ok, bindRev: bindRev, bindExists: len(bindKV) > 0}
	if len(recKV) > 0 {
		c.recRev = recKV[0].ModRevision
	}
	if len(bindKV) > 0 {
		c.bindLease = clientv3.LeaseID(bindKV[0].Lease)
	}
	if len(countKV) > 0 {
		c.countRev = countKV[0].ModRevision
	}
	return c, err
}

// Apply applies ops in batches: for each group of up to 20 instances,
// one read and one all-or-nothing write (compare-and-swap on every key it
// read); a write that lost a race reads and tries again. See
// registry.Batcher.
func (r *Registry) Apply(ctx context.Context, ops []registry.Op) []error {
	errs := make([]error, len(ops))
	if err := r.check(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	// Group op indices by instance, in order of first appearance.
	var order []vic.UUID
	byU := map[vic.UUID][]int{}
	for i, op := range ops {
		if _, ok := byU[op.Instance]; !ok {
			order = append(order, op.Instance)
		}
		byU[op.Instance] = append(byU[op.Instance], i)
	}
	chunks((len(order)+instancesPerTxn-1)/instancesPerTxn, func(c int) {
		start := c * instancesPerTxn
		us := order[start:min(start+instancesPerTxn, len(order))]
		for {
			lost, err := r.applyChunk(ctx, us, byU, ops, errs)
			if err == nil && !lost {
				break
			}
			if err != nil {
				for _, u := range us {
					for _, i := range byU[u] {
						errs[i] = err
					}
				}
				break
			}
			if ctx.Err() != nil {
				for _, u := range us {
					for _, i := range byU[u] {
						errs[i] = ctx.Err()
					}
				}
				break
			}
		}
	})
	return errs
}

// chunkWorkers is how many transactions one Apply or AllocateAll has in
// flight at once.
const chunkWorkers = 4

// chunks runs f(0) … f(n-1), chunkWorkers at a time.
func chunks(n int, f func(int)) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(n, chunkWorkers) {
		wg.Go(func() {
			for c := int(next.Add(1) - 1); c < n; c = int(next.Add(1) - 1) {
				f(c)
			}
		})
	}
	wg.Wait()
}

// applyChunk reads the instances us, folds their ops over what it read
// and writes the result in one transaction. lost: the write lost a race
// (or the lease was replaced); read and try again.
func (r *Registry) applyChunk(ctx context.Context, us []vic.UUID, byU map[vic.UUID][]int, ops []registry.Op, errs []error) (lost bool, err error) {
	var reads []clientv3.Op
	for _, u := range us {
		reads = append(reads, r.gets(u)...)
	}
	got, err := r.cli.Txn(ctx).Then(reads...).Commit()
	if err != nil {
		return false, err
	}
	g := ranges(got, 0)
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	var cmps []clientv3.Cmp
	var writes []clientv3.Op
	type outcome struct {
		bound, released bool
		b               registry.Binding
	}
	outs := map[vic.UUID]outcome{}
	for k, u := range us {
		cur, err := readCurrent(g[3*k], g[3*k+1], g[3*k+2])
		if err != nil {
			return false, err
		}
		recKey, bindKey, countKey := r.keys(u)
		mine := cur.rec.Held && cur.rec.Binding.VIS == r.o.VIS
		cfg, cfgChanged := cur.rec.Config, false
		counters, counted := cur.rec.Counters, false
		bound, released := mine, false
		b := cur.rec.Binding
		for _, i := range byU[u] {
			op := ops[i]
			errs[i] = nil
			if !cur.exists {
				errs[i] = fmt.Errorf("%w: %v", registry.ErrNotFound, u)
				continue
			}
			switch op.Kind {
			case registry.OpBind:
				nb := op.Binding
				nb.VIS = r.o.VIS
				if !bound && cur.rec.Held && cur.rec.Binding.VIS != r.o.VIS && !released && nb.Epoch <= cur.rec.Binding.Epoch {
					errs[i] = fmt.Errorf("%w: %v is bound on %s at epoch %d (asked: epoch %d)", registry.ErrHeld, u, cur.rec.Binding.VIS, cur.rec.Binding.Epoch, nb.Epoch)
					continue
				}
				bound, released, b = true, false, nb
				if op.Config != nil {
					c := *op.Config
					c.Instance = u
					cfg, cfgChanged = c, true
				}
			case registry.OpSetConfig:
				if !bound {
					errs[i] = fmt.Errorf("%w: %v", registry.ErrNotHeld, u)
					continue
				}
				c := *op.Config
				c.Instance = u
				cfg, cfgChanged = c, true
			case registry.OpCheckpoint:
				if op.Delta != (vis.Counters{}) {
					counters, counted = registry.AddCounters(counters, op.Delta), true
				}
			case registry.OpRelease:
				if !bound {
					errs[i] = fmt.Errorf("%w: %v", registry.ErrNotHeld, u)
					continue
				}
				counters, counted = registry.AddCounters(counters, op.Delta), true
				bound, released = false, true
			}
		}
		if !cur.exists {
			continue
		}
		wasBound := mine
		oldProfile := cur.rec.Config.Profile
		if cfgChanged {
			val, err := json.Marshal(record{ID: cur.rec.ID, Config: cfg})
			if err != nil {
				return false, err
			}
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(recKey), "=", cur.recRev))
			writes = append(writes, clientv3.OpPut(recKey, string(val)))
		}
		// A binding of ours on another lease (this VIS restarted, or lost
		// its lease while cut off) is written again on the current one.
		bindChanged := bound && (!wasBound || b != cur.rec.Binding || cur.bindLease != lease)
		if bindChanged || (bound && cfgChanged && cfg.Profile != oldProfile) {
			val, err := json.Marshal(b)
			if err != nil {
				return false, err
			}
			if cur.bindExists {
				cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(bindKey), "=", cur.bindRev))
			} else {
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(bindKey), "=", 0))
			}
			writes = append(writes, clientv3.OpPut(bindKey, string(val), clientv3.WithLease(lease)),
				clientv3.OpPut(r.useKey(cfg.Profile, u), "", clientv3.WithLease(lease)),
				clientv3.OpPut(r.homeKey(u), string(val)))
			if cfg.Profile != oldProfile && (wasBound || cur.rec.Held) {
				writes = append(writes, clientv3.OpDelete(r.useKey(oldProfile, u)))
			}
			outs[u] = outcome{bound: true, b: b}
		} else if released && wasBound {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(bindKey), "=", cur.bindRev))
			writes = append(writes, clientv3.OpDelete(bindKey), clientv3.OpDelete(r.useKey(oldProfile, u)),
				clientv3.OpDelete(r.homeKey(u)))
			if cfg.Profile != oldProfile {
				writes = append(writes, clientv3.OpDelete(r.useKey(cfg.Profile, u)))
			}
			outs[u] = outcome{released: true}
		} else if bound && !bindChanged {
			// Still ours and unchanged: the write depends on it staying so.
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(bindKey), "=", cur.bindRev))
		}
		if counted {
			val, err := json.Marshal(counters)
			if err != nil {
				return false, err
			}
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(countKey), "=", cur.countRev))
			writes = append(writes, clientv3.OpPut(countKey, string(val)))
		}
	}
	if len(writes) == 0 {
		return false, nil
	}
	rev, retry, err := r.commit(ctx, lease, cmps, writes)
	if retry || err != nil {
		return retry, err
	}
	r.mu.Lock()
	for u, o := range outs {
		switch {
		case o.bound:
			r.held[u] = held{b: o.b, modRev: rev}
		case o.released:
			delete(r.held, u)
		}
	}
	r.mu.Unlock()
	return false, nil
}

var _ registry.Batcher = (*Registry)(nil)
