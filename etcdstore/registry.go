package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/registry"
	"github.com/nivkit/niv/vic/vis"
)

// RegistryOptions configure OpenRegistry.
type RegistryOptions struct {
	// Prefix of the keys (default DefaultPrefix).
	Prefix string
	// VIS names this VIS in the bindings it holds; required, unique in
	// the fleet.
	VIS string
	// TTL is the lease of this VIS's bindings: how long after it dies or
	// is cut off they expire (default 10 s; etcd rounds up to its minimum).
	TTL time.Duration
	// IDBlock is how many vEth ids one reservation takes (default 64).
	IDBlock int
	// Logger gets lease losses and watch restarts (default: none).
	Logger *slog.Logger
	// MaxPorts returns the max-ports of a port-profile, the most vEths
	// bound to it across the fleet (Allocate refuses more with
	// registry.ErrProfileFull); nil or 0: no limit. Open takes it from
	// the fleet's Profiles.
	MaxPorts func(profile string) int
}

// Registry is the vEth registry of one VIS, shared by the fleet through
// etcd; see the package documentation for its keys.
type Registry struct {
	cli    *clientv3.Client
	o      RegistryOptions
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	lease   clientv3.LeaseID
	leases  int // leases granted, the first included
	held    map[vic.UUID]held
	idMu    sync.Mutex // held while reserving a block
	idNext  uint32
	idEnd   uint32 // idNext..idEnd-1 are reserved for this VIS
	subs    map[int]func(registry.Event)
	nextSub int
	closed  bool

	events chan registry.Event
}

type held struct {
	b      registry.Binding
	modRev int64 // of its binding key
}

var _ registry.Registry = (*Registry)(nil)

// OpenRegistry takes a lease and starts watching the fleet's bindings.
// Close stops it without revoking the lease; it does not close cli.
func OpenRegistry(ctx context.Context, cli *clientv3.Client, o RegistryOptions) (*Registry, error) {
	if o.VIS == "" {
		return nil, errors.New("etcdstore: RegistryOptions.VIS is required")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.TTL == 0 {
		o.TTL = 10 * time.Second
	}
	if o.IDBlock <= 0 {
		o.IDBlock = 64
	}
	r := &Registry{cli: cli, o: o, log: o.Logger, held: map[vic.UUID]held{},
		subs: map[int]func(registry.Event){}, events: make(chan registry.Event, 1024)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	ka, err := r.grant(ctx)
	if err != nil {
		r.cancel()
		return nil, fmt.Errorf("etcdstore: granting the lease of %s: %w", o.VIS, err)
	}
	resp, err := cli.Get(ctx, r.key("bind/"), clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		r.cancel()
		return nil, fmt.Errorf("etcdstore: reading the bindings: %w", err)
	}
	r.wg.Add(3)
	go r.keep(ka)
	go r.watch(resp.Header.Revision)
	go r.dispatch()
	return r, nil
}

func (r *Registry) key(s string) string { return r.o.Prefix + "veth/" + s }

func (r *Registry) keys(u vic.UUID) (rec, bind, count string) {
	s := u.String()
	return r.key("rec/" + s), r.key("bind/" + s), r.key("count/" + s)
}

// VIS returns this VIS's name.
func (r *Registry) VIS() string { return r.o.VIS }

// Lease returns the lease this VIS's bindings are on now, and how many
// leases it has had (more than one after its lease expired while it was
// cut off).
func (r *Registry) Lease() (clientv3.LeaseID, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lease, r.leases
}

// grant takes a new lease and keeps it alive.
func (r *Registry) grant(ctx context.Context) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	ttl := int64((r.o.TTL + time.Second - 1) / time.Second)
	g, err := r.cli.Grant(ctx, ttl)
	if err != nil {
		return nil, err
	}
	ka, err := r.cli.KeepAlive(r.ctx, g.ID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.lease = g.ID
	r.leases++
	r.mu.Unlock()
	return ka, nil
}

// keep drains the lease's keep-alives. When the lease is lost (cut off
// from etcd for longer than the TTL), it takes a new one as soon as etcd
// answers and binds again what this VIS still holds, unless another VIS
// took it meanwhile (Taken).
func (r *Registry) keep(ka <-chan *clientv3.LeaseKeepAliveResponse) {
	defer r.wg.Done()
	for {
		for range ka {
		}
		if r.ctx.Err() != nil {
			return
		}
		r.log.Warn("lease lost; taking a new one", "vis", r.o.VIS)
		for {
			ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
			var err error
			ka, err = r.grant(ctx)
			cancel()
			if err == nil {
				break
			}
			if r.ctx.Err() != nil {
				return
			}
			pause(r.ctx, 200*time.Millisecond)
		}
		r.rebind()
	}
}

// rebind puts this VIS's bindings on its new lease, in batches.
func (r *Registry) rebind() {
	r.mu.Lock()
	hs := maps.Clone(r.held)
	r.mu.Unlock()
	us := slices.SortedFunc(maps.Keys(hs), cmpUUID)
	for r.ctx.Err() == nil && len(us) > 0 {
		ops := make([]registry.Op, len(us))
		for i, u := range us {
			ops[i] = registry.Op{Kind: registry.OpBind, Instance: u, Binding: hs[u].b}
		}
		ctx, cancel := context.WithTimeout(r.ctx, 30*time.Second)
		errs := r.Apply(ctx, ops)
		cancel()
		var again []vic.UUID
		for i, err := range errs {
			u := us[i]
			switch {
			case err == nil, errors.Is(err, registry.ErrClosed):
			case errors.Is(err, registry.ErrHeld), errors.Is(err, registry.ErrNotFound):
				r.mu.Lock()
				delete(r.held, u)
				r.mu.Unlock()
				r.emit(registry.Event{Kind: registry.Taken, Instance: u})
			default:
				again = append(again, u)
			}
		}
		us = again
		if len(us) > 0 {
			pause(r.ctx, 200*time.Millisecond)
		}
	}
}

// record is what veth/rec/UUID holds.
type record struct {
	ID     profile.VEthID `json:"id"`
	Config vic.VNIC       `json:"config"`
}

// read fills a Record from the responses of Gets on the record, binding
// and counter keys; false if there is no record.
func read(recKV, bindKV, countKV []*mvccpb.KeyValue) (registry.Record, int64, bool, error) {
	var out registry.Record
	if len(recKV) == 0 {
		return out, 0, false, nil
	}
	var rec record
	if err := json.Unmarshal(recKV[0].Value, &rec); err != nil {
		return out, 0, false, fmt.Errorf("etcdstore: %s: %w", recKV[0].Key, err)
	}
	out.ID, out.Config = rec.ID, rec.Config
	var bindRev int64
	if len(bindKV) > 0 {
		if err := json.Unmarshal(bindKV[0].Value, &out.Binding); err != nil {
			return out, 0, false, fmt.Errorf("etcdstore: %s: %w", bindKV[0].Key, err)
		}
		out.Held, bindRev = true, bindKV[0].ModRevision
	}
	if len(countKV) > 0 {
		if err := json.Unmarshal(countKV[0].Value, &out.Counters); err != nil {
			return out, 0, false, fmt.Errorf("etcdstore: %s: %w", countKV[0].Key, err)
		}
	}
	return out, bindRev, true, nil
}

func ranges(resp *clientv3.TxnResponse, from int) [][]*mvccpb.KeyValue {
	var out [][]*mvccpb.KeyValue
	for _, op := range resp.Responses[from:] {
		if rr := op.GetResponseRange(); rr != nil {
			out = append(out, rr.Kvs)
		}
	}
	return out
}

func (r *Registry) gets(u vic.UUID) []clientv3.Op {
	rec, bind, count := r.keys(u)
	return []clientv3.Op{clientv3.OpGet(rec), clientv3.OpGet(bind), clientv3.OpGet(count)}
}

func (r *Registry) check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return registry.ErrClosed
	}
	return nil
}

// Get returns u's vEth; see registry.Registry.
func (r *Registry) Get(ctx context.Context, u vic.UUID) (registry.Record, error) {
	if err := r.check(); err != nil {
		return registry.Record{}, err
	}
	resp, err := r.cli.Txn(ctx).Then(r.gets(u)...).Commit()
	if err != nil {
		return registry.Record{}, err
	}
	g := ranges(resp, 0)
	rec, _, ok, err := read(g[0], g[1], g[2])
	if err == nil && !ok {
		err = fmt.Errorf("%w: %v", registry.ErrNotFound, u)
	}
	return rec, err
}

// nextID hands out an id from this VIS's block, reserving a new block of
// IDBlock ids with a compare-and-swap on veth/ids when it is used up.
func (r *Registry) nextID(ctx context.Context) (profile.VEthID, error) {
	take := func() (profile.VEthID, bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.idNext < r.idEnd {
			r.idNext++
			return profile.VEthID(r.idNext - 1), true
		}
		return 0, false
	}
	if id, ok := take(); ok {
		return id, nil
	}
	// One reservation at a time: the others wait for its block.
	r.idMu.Lock()
	defer r.idMu.Unlock()
	if id, ok := take(); ok {
		return id, nil
	}
	k := r.key("ids")
	for {
		g, err := r.cli.Get(ctx, k)
		if err != nil {
			return 0, err
		}
		var last uint64
		var rev int64
		if len(g.Kvs) > 0 {
			if last, err = strconv.ParseUint(string(g.Kvs[0].Value), 10, 32); err != nil {
				return 0, fmt.Errorf("etcdstore: %s: %w", k, err)
			}
			rev = g.Kvs[0].ModRevision
		}
		top := last + uint64(r.o.IDBlock)
		if top > 1<<32-1 {
			return 0, errors.New("etcdstore: vEth ids exhausted")
		}
		resp, err := r.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(k), "=", rev)).
			Then(clientv3.OpPut(k, strconv.FormatUint(top, 10))).
			Commit()
		if err != nil {
			return 0, err
		}
		if resp.Succeeded {
			r.mu.Lock()
			r.idNext, r.idEnd = uint32(last)+2, uint32(top)+1
			r.mu.Unlock()
			return profile.VEthID(last + 1), nil
		}
	}
}

// Bind makes this VIS the holder of u's vEth; see registry.Registry.
func (r *Registry) Bind(ctx context.Context, u vic.UUID, b registry.Binding) (registry.Record, error) {
	if err := r.Apply(ctx, []registry.Op{{Kind: registry.OpBind, Instance: u, Binding: b}})[0]; err != nil {
		if errors.Is(err, registry.ErrHeld) {
			rec, _ := r.Get(ctx, u)
			return rec, err
		}
		return registry.Record{}, err
	}
	return r.Get(ctx, u)
}

// commit runs the transaction of writes guarded by cmps, made while this
// VIS held lease, and returns the revision it committed at. It reports
// retry when the guards failed (a key changed since it was read) or the
// lease was replaced meanwhile (leaseLost): the caller reads again and
// starts over. No writes, nothing to do.
func (r *Registry) commit(ctx context.Context, lease clientv3.LeaseID, cmps []clientv3.Cmp, writes []clientv3.Op) (rev int64, retry bool, err error) {
	if len(writes) == 0 {
		return 0, false, nil
	}
	resp, err := r.cli.Txn(ctx).If(cmps...).Then(writes...).Commit()
	if r.leaseLost(ctx, err, lease) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	return resp.Header.Revision, !resp.Succeeded, nil
}

// leaseLost reports whether err says that lease expired (this VIS was cut
// off, or starved, for longer than its TTL); it then waits until keep has
// taken a new one, so that the caller can try again on it.
func (r *Registry) leaseLost(ctx context.Context, err error, lease clientv3.LeaseID) bool {
	if !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return false
	}
	for ctx.Err() == nil && r.ctx.Err() == nil {
		if now, _ := r.Lease(); now != lease {
			return true
		}
		pause(ctx, 50*time.Millisecond)
	}
	return false
}

// SetConfig replaces the configuration of a vEth this VIS holds.
func (r *Registry) SetConfig(ctx context.Context, u vic.UUID, c vic.VNIC) error {
	return r.Apply(ctx, []registry.Op{{Kind: registry.OpSetConfig, Instance: u, Config: &c}})[0]
}

// Checkpoint adds delta to u's counters; see registry.Registry.
func (r *Registry) Checkpoint(ctx context.Context, u vic.UUID, delta vis.Counters) error {
	return r.Apply(ctx, []registry.Op{{Kind: registry.OpCheckpoint, Instance: u, Delta: delta}})[0]
}

// Release gives up u's vEth after adding delta to its counters.
func (r *Registry) Release(ctx context.Context, u vic.UUID, delta vis.Counters) error {
	return r.Apply(ctx, []registry.Op{{Kind: registry.OpRelease, Instance: u, Delta: delta}})[0]
}

// Held returns the instances this VIS holds, in UUID order.
func (r *Registry) Held() []vic.UUID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.SortedFunc(maps.Keys(r.held), cmpUUID)
}

func cmpUUID(a, b vic.UUID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// Subscribe calls fn for every later Event, one at a time, from one
// goroutine; see registry.Registry.
func (r *Registry) Subscribe(fn func(registry.Event)) func() {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.nextSub
	r.nextSub++
	r.subs[id] = fn
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.subs, id)
	}
}

func (r *Registry) emit(ev registry.Event) {
	select {
	case r.events <- ev:
	case <-r.ctx.Done():
	}
}

func (r *Registry) dispatch() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case ev := <-r.events:
			r.mu.Lock()
			fns := make([]func(registry.Event), 0, len(r.subs))
			for _, id := range slices.Sorted(maps.Keys(r.subs)) {
				fns = append(fns, r.subs[id])
			}
			r.mu.Unlock()
			for _, fn := range fns {
				fn(ev)
			}
		}
	}
}

// watch follows every binding from revision rev on: a vEth this VIS holds
// bound by another is Taken; a binding deleted (released, or its lease
// expired) that is not this VIS's is Orphaned. After a compaction it lists
// the bindings again and reports what it can no longer tell apart: held
// vEths now bound elsewhere (Taken) and vEths bound nowhere (Orphaned).
func (r *Registry) watch(rev int64) {
	defer r.wg.Done()
	prefix := r.key("bind/")
	for r.ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(r.ctx))
		wch := r.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV())
		compacted := false
		for resp := range wch {
			if resp.CompactRevision != 0 {
				compacted = true
				break
			}
			if resp.Err() != nil {
				r.log.Warn("binding watch ended", "vis", r.o.VIS, "err", resp.Err())
				break
			}
			for _, ev := range resp.Events {
				r.event(ev, prefix)
				rev = ev.Kv.ModRevision
			}
		}
		cancel()
		if r.ctx.Err() != nil {
			return
		}
		if compacted {
			for r.ctx.Err() == nil {
				ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
				got, err := r.relist(ctx, prefix)
				cancel()
				if err == nil {
					rev = got
					break
				}
				pause(r.ctx, 200*time.Millisecond)
			}
			continue
		}
		pause(r.ctx, 200*time.Millisecond)
	}
}

func (r *Registry) event(ev *clientv3.Event, prefix string) {
	u, err := parseUUID(string(ev.Kv.Key[len(prefix):]))
	if err != nil {
		return
	}
	var b registry.Binding
	switch ev.Type {
	case clientv3.EventTypePut:
		if json.Unmarshal(ev.Kv.Value, &b) != nil {
			return
		}
		r.mu.Lock()
		_, mine := r.held[u]
		if mine && b.VIS != r.o.VIS {
			delete(r.held, u)
		}
		r.mu.Unlock()
		if mine && b.VIS != r.o.VIS {
			r.emit(registry.Event{Kind: registry.Taken, Instance: u, Binding: b})
		}
	case clientv3.EventTypeDelete:
		if ev.PrevKv != nil {
			_ = json.Unmarshal(ev.PrevKv.Value, &b)
		}
		r.mu.Lock()
		_, mine := r.held[u]
		r.mu.Unlock()
		if !mine {
			r.emit(registry.Event{Kind: registry.Orphaned, Instance: u, Binding: b})
		}
	}
}

// relist reads every binding after a compaction.
func (r *Registry) relist(ctx context.Context, prefix string) (int64, error) {
	resp, err := r.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, err
	}
	bound := map[vic.UUID]registry.Binding{}
	for _, kv := range resp.Kvs {
		u, err := parseUUID(string(kv.Key[len(prefix):]))
		var b registry.Binding
		if err == nil && json.Unmarshal(kv.Value, &b) == nil {
			bound[u] = b
		}
	}
	r.mu.Lock()
	var taken []registry.Event
	for u := range r.held {
		if b, ok := bound[u]; ok && b.VIS != r.o.VIS {
			delete(r.held, u)
			taken = append(taken, registry.Event{Kind: registry.Taken, Instance: u, Binding: b})
		}
	}
	r.mu.Unlock()
	for _, ev := range taken {
		r.emit(ev)
	}
	recs, err := r.cli.Get(ctx, r.key("rec/"), clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithRev(resp.Header.Revision))
	if err != nil {
		return 0, err
	}
	for _, kv := range recs.Kvs {
		u, err := parseUUID(string(kv.Key[len(r.key("rec/")):]))
		if _, ok := bound[u]; err == nil && !ok {
			r.emit(registry.Event{Kind: registry.Orphaned, Instance: u})
		}
	}
	return resp.Header.Revision, nil
}

// Close stops the registry without revoking its lease: its bindings expire
// after the TTL, as if the VIS had died.
func (r *Registry) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// Revoke releases every binding at once by revoking the lease (a VIS
// shutting down cleanly), then closes the registry.
func (r *Registry) Revoke(ctx context.Context) error {
	lease, _ := r.Lease()
	_, err := r.cli.Revoke(ctx, lease)
	r.Close()
	return err
}
