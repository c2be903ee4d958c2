package etcdstore

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// Claim is one vEth for AllocateAll and BindAll (registry.Claim).
type Claim = registry.Claim

// Allocate creates u's vEth with a fleet-wide id if absent and counts it
// against its port-profile's max-ports across the fleet; see
// registry.Registry and AllocateAll.
func (r *Registry) Allocate(ctx context.Context, u vic.UUID, c vic.VNIC) (registry.Record, error) {
	recs, errs := r.AllocateAll(ctx, []Claim{{Instance: u, Config: c}})
	return recs[0], errs[0]
}

// AllocateAll does what Allocate does for many vEths at once, 20 to a
// transaction pair: one read, one write. A vEth that exists keeps its id
// and configuration. A claim whose vEth is not yet counted against
// c.Config.Profile takes one of the profile's max-ports
// (RegistryOptions.MaxPorts) across the fleet: a key under
// veth/use/PROFILE/ on this VIS's lease, written only if no key of that
// profile changed since the read (a compare on the whole prefix), so that
// two VISes racing for the last port cannot both have it; the loser gets
// registry.ErrProfileFull. It returns a record and an error per claim.
func (r *Registry) AllocateAll(ctx context.Context, claims []Claim) ([]registry.Record, []error) {
	recs := make([]registry.Record, len(claims))
	errs := make([]error, len(claims))
	if err := r.check(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return recs, errs
	}
	chunks((len(claims)+instancesPerTxn-1)/instancesPerTxn, func(c int) {
		start := c * instancesPerTxn
		end := min(start+instancesPerTxn, len(claims))
		for {
			lost, err := r.allocateChunk(ctx, claims[start:end], recs[start:end], errs[start:end])
			if err != nil || ctx.Err() != nil {
				if err == nil {
					err = ctx.Err()
				}
				for i := start; i < end; i++ {
					errs[i] = err
				}
				break
			}
			if !lost {
				break
			}
		}
	})
	return recs, errs
}

func (r *Registry) maxPorts(name string) int {
	if r.o.MaxPorts == nil {
		return 0
	}
	return r.o.MaxPorts(name)
}

func (r *Registry) allocateChunk(ctx context.Context, claims []Claim, recs []registry.Record, errs []error) (lost bool, err error) {
	var reads []clientv3.Op
	for _, c := range claims {
		recKey, _, _ := r.keys(c.Instance)
		reads = append(reads, clientv3.OpGet(recKey), clientv3.OpGet(r.useKey(c.Config.Profile, c.Instance), clientv3.WithCountOnly()))
	}
	var profiles []string
	limited := map[string]int{} // profile → index in profiles
	for _, c := range claims {
		if _, ok := limited[c.Config.Profile]; !ok && r.maxPorts(c.Config.Profile) > 0 {
			limited[c.Config.Profile] = len(profiles)
			profiles = append(profiles, c.Config.Profile)
			reads = append(reads, clientv3.OpGet(r.usePrefix(c.Config.Profile), clientv3.WithPrefix(), clientv3.WithCountOnly()))
		}
	}
	got, err := r.cli.Txn(ctx).Then(reads...).Commit()
	if err != nil {
		return false, err
	}
	rev := got.Header.Revision
	count := make([]int64, len(profiles))
	for j := range profiles {
		count[j] = got.Responses[2*len(claims)+j].GetResponseRange().Count
	}
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	var cmps []clientv3.Cmp
	var writes []clientv3.Op
	guarded := map[string]bool{}
	seen := map[vic.UUID]int{}
	for i, c := range claims {
		errs[i] = nil
		if j, dup := seen[c.Instance]; dup {
			recs[i], errs[i] = recs[j], errs[j]
			continue
		}
		seen[c.Instance] = i
		recKV := got.Responses[2*i].GetResponseRange().Kvs
		counted := got.Responses[2*i+1].GetResponseRange().Count > 0
		rec, _, exists, err := read(recKV, nil, nil)
		if err != nil {
			return false, err
		}
		if j, ok := limited[c.Config.Profile]; ok && !counted {
			if max := int64(r.maxPorts(c.Config.Profile)); count[j] >= max {
				errs[i] = fmt.Errorf("%w: port-profile %s has its %d vEths (max-ports)", registry.ErrProfileFull, c.Config.Profile, max)
				continue
			}
			count[j]++
			if !guarded[c.Config.Profile] {
				guarded[c.Config.Profile] = true
				cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.usePrefix(c.Config.Profile)), "<", rev+1).WithPrefix())
			}
			writes = append(writes, clientv3.OpPut(r.useKey(c.Config.Profile, c.Instance), "", clientv3.WithLease(lease)))
		}
		if !exists {
			id, err := r.nextID(ctx)
			if err != nil {
				return false, err
			}
			cfg := c.Config
			cfg.Instance = c.Instance
			val, err := json.Marshal(record{ID: id, Config: cfg})
			if err != nil {
				return false, err
			}
			recKey, _, _ := r.keys(c.Instance)
			cmps = append(cmps, clientv3.Compare(clientv3.Version(recKey), "=", 0))
			writes = append(writes, clientv3.OpPut(recKey, string(val)))
			rec = registry.Record{ID: id, Config: cfg}
		}
		recs[i] = rec
	}
	_, retry, err := r.commit(ctx, lease, cmps, writes)
	return retry, err
}

// BindAll does what Allocate then Bind do for each claim, for many vEths
// at once: a VIS coming up with thousands of vEths, or taking over those
// of a dead one (AllocateAll, then Apply). It returns the records in the
// order of claims and the first error, if any.
func (r *Registry) BindAll(ctx context.Context, claims []Claim) ([]registry.Record, error) {
	recs, errs := r.AllocateAll(ctx, claims)
	ops := make([]registry.Op, 0, len(claims))
	var at []int
	for i, c := range claims {
		if errs[i] != nil {
			continue
		}
		ops = append(ops, registry.Op{Kind: registry.OpBind, Instance: c.Instance, Binding: c.Binding})
		at = append(at, i)
	}
	for k, err := range r.Apply(ctx, ops) {
		i := at[k]
		if errs[i] = err; err == nil {
			b := claims[i].Binding
			b.VIS = r.o.VIS
			recs[i].Binding, recs[i].Held = b, true
		}
	}
	for _, err := range errs {
		if err != nil {
			return recs, err
		}
	}
	return recs, nil
}

var (
	_ registry.BatchAllocator = (*Registry)(nil)
	_ registry.Restorer       = (*Registry)(nil)
)

// Restore returns the vEths this VIS held when it last stopped, from its
// veth/home/VIS/ keys (see registry.Restorer): still bound to it, or
// bound nowhere since its lease expired (Binding then is the one it had).
// A home key of a vEth another VIS holds now is deleted.
func (r *Registry) Restore(ctx context.Context) ([]registry.Record, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	prefix := r.homePrefix()
	homes, err := r.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	var out []registry.Record
	for start := 0; start < len(homes.Kvs); start += 40 {
		kvs := homes.Kvs[start:min(start+40, len(homes.Kvs))]
		var reads []clientv3.Op
		us := make([]vic.UUID, len(kvs))
		for i, kv := range kvs {
			if us[i], err = parseUUID(string(kv.Key[len(prefix):])); err != nil {
				return nil, fmt.Errorf("etcdstore: %s: %w", kv.Key, err)
			}
			reads = append(reads, r.gets(us[i])...)
		}
		got, err := r.cli.Txn(ctx).Then(reads...).Commit()
		if err != nil {
			return nil, err
		}
		g := ranges(got, 0)
		for i, kv := range kvs {
			rec, _, ok, err := read(g[3*i], g[3*i+1], g[3*i+2])
			if err != nil {
				return nil, err
			}
			switch {
			case !ok:
				continue
			case rec.Held && rec.Binding.VIS != r.o.VIS:
				r.cli.Delete(ctx, string(kv.Key))
				continue
			case !rec.Held:
				if err := json.Unmarshal(kv.Value, &rec.Binding); err != nil {
					return nil, fmt.Errorf("etcdstore: %s: %w", kv.Key, err)
				}
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

var _ registry.BatchGetter = (*Registry)(nil)

// GetAll does what Get does for each of us, 40 to a transaction.
func (r *Registry) GetAll(ctx context.Context, us []vic.UUID) ([]registry.Record, []error) {
	recs := make([]registry.Record, len(us))
	errs := make([]error, len(us))
	if err := r.check(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return recs, errs
	}
	const per = 40
	chunks((len(us)+per-1)/per, func(c int) {
		start := c * per
		end := min(start+per, len(us))
		var reads []clientv3.Op
		for _, u := range us[start:end] {
			reads = append(reads, r.gets(u)...)
		}
		got, err := r.cli.Txn(ctx).Then(reads...).Commit()
		if err != nil {
			for i := start; i < end; i++ {
				errs[i] = err
			}
			return
		}
		g := ranges(got, 0)
		for k := range end - start {
			rec, _, ok, err := read(g[3*k], g[3*k+1], g[3*k+2])
			if err == nil && !ok {
				err = fmt.Errorf("%w: %v", registry.ErrNotFound, us[start+k])
			}
			recs[start+k], errs[start+k] = rec, err
		}
	})
	return recs, errs
}
