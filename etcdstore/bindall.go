package etcdstore

import (
	"context"
	"encoding/json"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
)

// Claim is one vEth for BindAll: its instance, the configuration to
// create it with if it does not exist, and where to bind it.
type Claim struct {
	Instance vic.UUID
	Config   vic.VNIC
	Binding  registry.Binding
}

// claimsPerTxn keeps a BindAll transaction within etcd's default limit
// of 128 operations per transaction: 3 reads per claim, then up to 2
// compares and 2 writes per claim.
const claimsPerTxn = 40

// BindAll does what Allocate then Bind do for each claim, for many vEths
// at once: a VIS coming up with thousands of vEths, or taking over those
// of a dead one. Claims go 40 to a transaction: one read, then one
// all-or-nothing write for those whose vEths no VIS holds; the others,
// and any batch whose write lost a race, go one by one through Allocate
// and Bind. It returns the records in the order of claims and the first
// error, if any.
func (r *Registry) BindAll(ctx context.Context, claims []Claim) ([]registry.Record, error) {
	out := make([]registry.Record, len(claims))
	for start := 0; start < len(claims); start += claimsPerTxn {
		end := min(start+claimsPerTxn, len(claims))
		if err := r.bindChunk(ctx, claims[start:end], out[start:end]); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (r *Registry) bindChunk(ctx context.Context, claims []Claim, out []registry.Record) error {
	if err := r.check(); err != nil {
		return err
	}
	var reads []clientv3.Op
	for _, c := range claims {
		reads = append(reads, r.gets(c.Instance)...)
	}
	got, err := r.cli.Txn(ctx).Then(reads...).Commit()
	if err != nil {
		return err
	}
	g := ranges(got, 0)
	r.mu.Lock()
	lease := r.lease
	r.mu.Unlock()
	var cmps []clientv3.Cmp
	var writes []clientv3.Op
	var bulk, single []int
	for i, c := range claims {
		rec, _, exists, err := read(g[3*i], g[3*i+1], g[3*i+2])
		if err != nil {
			return err
		}
		if rec.Held {
			single = append(single, i)
			continue
		}
		recKey, bindKey, _ := r.keys(c.Instance)
		if !exists {
			id, err := r.nextID(ctx)
			if err != nil {
				return err
			}
			c.Config.Instance = c.Instance
			rec = registry.Record{ID: id, Config: c.Config}
			val, err := json.Marshal(record{ID: id, Config: c.Config})
			if err != nil {
				return err
			}
			cmps = append(cmps, clientv3.Compare(clientv3.Version(recKey), "=", 0))
			writes = append(writes, clientv3.OpPut(recKey, string(val)))
		}
		b := c.Binding
		b.VIS = r.o.VIS
		val, err := json.Marshal(b)
		if err != nil {
			return err
		}
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(bindKey), "=", 0))
		writes = append(writes, clientv3.OpPut(bindKey, string(val), clientv3.WithLease(lease)))
		rec.Binding, rec.Held = b, true
		out[i] = rec
		bulk = append(bulk, i)
	}
	if len(bulk) > 0 {
		resp, err := r.cli.Txn(ctx).If(cmps...).Then(writes...).Commit()
		if r.leaseLost(ctx, err, lease) {
			// Its keys were not written: claim them again on the new lease.
			return r.bindChunk(ctx, claims, out)
		}
		if err != nil {
			return err
		}
		if resp.Succeeded {
			r.mu.Lock()
			for _, i := range bulk {
				r.held[claims[i].Instance] = held{b: out[i].Binding, modRev: resp.Header.Revision}
			}
			r.mu.Unlock()
		} else {
			single = append(single, bulk...)
		}
	}
	for _, i := range single {
		c := claims[i]
		if _, err := r.Allocate(ctx, c.Instance, c.Config); err != nil {
			return err
		}
		rec, err := r.Bind(ctx, c.Instance, c.Binding)
		if err != nil {
			return err
		}
		out[i] = rec
	}
	return nil
}
