package etcdstore

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// Claim is one vEth for AllocateAll and BindAll: its instance, the
// configuration to create it with if it does not exist (and whose
// port-profile it counts against), and where to bind it (BindAll).
type Claim struct {
	Instance vic.UUID
	Config   vic.VNIC
	Binding  registry.Binding
}

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
	for start := 0; start < len(claims); start += instancesPerTxn {
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
	}
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
	if len(writes) == 0 {
		return false, nil
	}
	resp, err := r.cli.Txn(ctx).If(cmps...).Then(writes...).Commit()
	if r.leaseLost(ctx, err, lease) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !resp.Succeeded, nil
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
