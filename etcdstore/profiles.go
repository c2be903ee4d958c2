package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/nivkit/niv/profile"
)

// ErrConflict is returned by Profiles.Update when the configuration
// changed between the start of the edit and its commit more often than
// ProfilesOptions.Retries allowed re-running it.
var ErrConflict = errors.New("etcdstore: the configuration changed concurrently")

// DefaultPrefix is where the fleet's keys live unless told otherwise.
const DefaultPrefix = "/niv/"

// ProfilesOptions configure OpenProfiles.
type ProfilesOptions struct {
	// Prefix of the keys (default DefaultPrefix).
	Prefix string
	// Retries is how many times Update re-runs an edit whose commit lost
	// a race with another manager's, on the configuration that won, before
	// it returns ErrConflict. 0 reports the first conflict.
	Retries int
	// Logger gets watch restarts and bad configurations (default: none).
	Logger *slog.Logger
}

// Profiles is a profile.Store whose configuration lives in etcd and is
// shared by every VIS of a fleet. Its bindings are those of its own VIS.
// Revisions increase with every change the store applies: the etcd
// revision of a configuration change, or one more than the last revision
// for a change of bindings alone.
type Profiles struct {
	cli    *clientv3.Client
	key    string
	opts   ProfilesOptions
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	upd sync.Mutex // serialises Update

	mu      sync.Mutex
	state   *profile.State
	cfgRev  int64 // ModRevision of the configuration key in state (0: none)
	subs    map[int]func(profile.Batch)
	nextSub int
	relists int
	bad     int
}

var _ profile.Store = (*Profiles)(nil)

// OpenProfiles reads the configuration and starts watching it. Close stops
// the watch; it does not close cli.
func OpenProfiles(ctx context.Context, cli *clientv3.Client, o ProfilesOptions) (*Profiles, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	p := &Profiles{cli: cli, key: o.Prefix + "profiles/config", opts: o, log: o.Logger,
		state: profile.EmptyState(), subs: map[int]func(profile.Batch){}, done: make(chan struct{})}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	rev, err := p.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: reading the profile configuration: %w", err)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.watch(rev)
	return p, nil
}

// Close stops following the configuration; the last state stays readable.
func (p *Profiles) Close() {
	p.cancel()
	<-p.done
}

// Snapshot returns the current state; it must not be modified.
func (p *Profiles) Snapshot() *profile.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Relists returns how many times the store read the configuration again
// because its watch had been compacted away.
func (p *Profiles) Relists() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.relists
}

// ConfigRevision returns the etcd revision of the configuration the store
// holds (0: none was ever written).
func (p *Profiles) ConfigRevision() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfgRev
}

// MaxPorts returns the max-ports of port-profile name in the current
// configuration (NX-OS's default 32 if it sets none), or 0 if there is no
// such vethernet profile: RegistryOptions.MaxPorts.
func (p *Profiles) MaxPorts(name string) int {
	pr, ok := p.Snapshot().Config.Profiles[name]
	if !ok || pr.Type != profile.Vethernet {
		return 0
	}
	if pr.MaxPorts == 0 {
		return profile.DefaultMaxPorts
	}
	return int(pr.MaxPorts)
}

// retired returns the vethernet profiles of old that cfg deletes or
// disables: those no vEth of the fleet may be bound to when it commits.
func retired(old, cfg *profile.Config) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(old.Profiles)) {
		was := old.Profiles[name]
		if was.Type != profile.Vethernet || !was.Enabled {
			continue
		}
		if is, ok := cfg.Profiles[name]; !ok || !is.Enabled {
			out = append(out, name)
		}
	}
	return out
}

// Update runs edit on a transaction over the current state and commits it:
// a changed configuration with a compare-and-swap on its etcd revision,
// changed bindings locally. On a lost race edit runs again (so it must
// have no other effects) on the configuration that won, up to
// ProfilesOptions.Retries times; then ErrConflict. Subscribers get the
// Batch before Update returns; see profile.Store.
func (p *Profiles) Update(edit func(*profile.Txn) error) (uint64, error) {
	p.upd.Lock()
	defer p.upd.Unlock()
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		base, baseRev := p.state, p.cfgRev
		p.mu.Unlock()
		t := profile.NewTxn(base)
		if err := edit(t); err != nil {
			return 0, err
		}
		next, _, err := t.Prepare()
		if err != nil {
			return 0, err
		}
		cfgChanged := !next.Config.Equal(base.Config)
		var hdr int64
		if cfgChanged {
			// A profile deleted or disabled must have no vEth bound to it
			// anywhere in the fleet: no key under its veth/use/ prefix
			// (a compare on the whole prefix, in the same transaction).
			cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(p.key), "=", baseRev)}
			elses := []clientv3.Op{clientv3.OpGet(p.key)}
			gone := retired(base.Config, next.Config)
			for _, name := range gone {
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(usePrefix(p.opts.Prefix, name)), "=", 0).WithPrefix())
				elses = append(elses, clientv3.OpGet(usePrefix(p.opts.Prefix, name), clientv3.WithPrefix(), clientv3.WithCountOnly()))
			}
			ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
			resp, err := p.cli.Txn(ctx).If(cmps...).Then(clientv3.OpPut(p.key, next.Config.Text())).Else(elses...).Commit()
			cancel()
			if err != nil {
				return 0, fmt.Errorf("etcdstore: committing the profile configuration: %w", err)
			}
			if !resp.Succeeded {
				for j, name := range gone {
					if n := resp.Responses[1+j].GetResponseRange().Count; n > 0 {
						what := "delete"
						if _, ok := next.Config.Profiles[name]; ok {
							what = "disable"
						}
						return 0, fmt.Errorf("%w: port-profile %s: cannot %s it: %d vEths of the fleet are bound to it", profile.ErrInUse, name, what, n)
					}
				}
				// Another manager committed first: take its configuration
				// now (the watch may not have delivered it yet).
				got := resp.Responses[0].GetResponseRange()
				p.applyConfig(got.Kvs, resp.Header.Revision)
				if attempt >= p.opts.Retries {
					return 0, fmt.Errorf("%w: revision %d is no longer current (now %d)", ErrConflict, baseRev, p.ConfigRevision())
				}
				continue
			}
			hdr = resp.Header.Revision
		}
		p.mu.Lock()
		if !cfgChanged && p.cfgRev != baseRev {
			// The watch brought a newer configuration since the edit
			// began, and the bindings were checked against the older one:
			// run the edit again on the newer one.
			p.mu.Unlock()
			if attempt >= p.opts.Retries {
				return 0, fmt.Errorf("%w: revision %d is no longer current (now %d)", ErrConflict, baseRev, p.ConfigRevision())
			}
			continue
		}
		cfg := p.state.Config
		if cfgChanged && p.cfgRev < hdr {
			cfg, p.cfgRev = next.Config, hdr
		}
		rev := p.deliverPrepared(cfg, next, hdr)
		p.mu.Unlock()
		return rev, nil
	}
}

// deliver moves to cfg and bindings at a revision above the current one
// and at least rev, and hands the Batch to every subscriber. p.mu is held.
func (p *Profiles) deliver(cfg *profile.Config, bindings map[profile.VEthID]string, rev int64) uint64 {
	r := p.nextRevision(rev)
	next, b := profile.Follow(p.state, r, cfg, bindings)
	p.publish(next, b)
	return r
}

// deliverPrepared is deliver for next, a State that Txn.Prepare returned:
// a bindings-only edit prepared on the current state costs what its
// bindings cost (profile.Rebase), not a pass over every binding.
func (p *Profiles) deliverPrepared(cfg *profile.Config, next *profile.State, rev int64) uint64 {
	r := p.nextRevision(rev)
	st, b := profile.Rebase(p.state, r, cfg, next)
	p.publish(st, b)
	return r
}

// nextRevision is the revision a delivery at etcd revision rev gets:
// above the current one, and at least rev.
func (p *Profiles) nextRevision(rev int64) uint64 {
	return max(p.state.Revision+1, uint64(max(rev, 0)))
}

// publish makes st the current state and hands b to every subscriber,
// in the order they subscribed.
func (p *Profiles) publish(st *profile.State, b profile.Batch) {
	p.state = st
	for _, id := range slices.Sorted(maps.Keys(p.subs)) {
		p.subs[id](b)
	}
}

// applyConfig takes the configuration in kvs (the key's range: one or no
// value) read at revision hdr, if it is newer than the one held.
func (p *Profiles) applyConfig(kvs []*mvccpb.KeyValue, hdr int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(kvs) == 0 {
		if p.cfgRev != 0 {
			p.cfgRev = 0
			p.deliver(profile.NewConfig(), p.state.Bindings, hdr)
		}
		return
	}
	kv := kvs[0]
	if kv.ModRevision <= p.cfgRev {
		return
	}
	p.take(kv.ModRevision, kv.Value)
}

// take applies configuration text committed at revision rev. p.mu is held.
func (p *Profiles) take(rev int64, text []byte) {
	cfg, err := profile.Parse(string(text))
	if err != nil {
		// Not written by a Profiles: keep what we have.
		p.bad++
		p.log.Error("profile configuration in etcd does not parse; keeping the last one", "key", p.key, "revision", rev, "err", err)
		return
	}
	p.cfgRev = rev
	p.deliver(cfg, p.state.Bindings, rev)
}

// list reads the configuration and returns the revision it was read at.
func (p *Profiles) list(ctx context.Context) (int64, error) {
	resp, err := p.cli.Get(ctx, p.key)
	if err != nil {
		return 0, err
	}
	p.applyConfig(resp.Kvs, resp.Header.Revision)
	return resp.Header.Revision, nil
}

// watch follows the configuration from revision rev on. A watch that was
// compacted away lists again; a broken one (no leader, link down) starts
// again from the last revision seen.
func (p *Profiles) watch(rev int64) {
	defer close(p.done)
	for p.ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(p.ctx))
		wch := p.cli.Watch(wctx, p.key, clientv3.WithRev(rev+1))
		compacted := false
		for resp := range wch {
			if resp.CompactRevision != 0 {
				compacted = true
				break
			}
			if resp.Err() != nil {
				p.log.Warn("profile watch ended", "err", resp.Err())
				break
			}
			for _, ev := range resp.Events {
				p.mu.Lock()
				if ev.Kv.ModRevision > p.cfgRev {
					if ev.Type == clientv3.EventTypeDelete {
						p.cfgRev = ev.Kv.ModRevision
						p.deliver(profile.NewConfig(), p.state.Bindings, ev.Kv.ModRevision)
					} else {
						p.take(ev.Kv.ModRevision, ev.Kv.Value)
					}
				}
				p.mu.Unlock()
				rev = ev.Kv.ModRevision
			}
		}
		cancel()
		if p.ctx.Err() != nil {
			return
		}
		if compacted {
			p.log.Info("profile watch compacted; reading the configuration again", "from", rev+1)
			for p.ctx.Err() == nil {
				ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
				r, err := p.list(ctx)
				cancel()
				if err == nil {
					p.mu.Lock()
					p.relists++
					p.mu.Unlock()
					rev = r
					break
				}
				pause(p.ctx, 200*time.Millisecond)
			}
			continue
		}
		pause(p.ctx, 200*time.Millisecond)
	}
}

// Subscribe calls fn with the policy of every bound vEth, then with every
// later Batch; see profile.Store.
func (p *Profiles) Subscribe(fn func(profile.Batch)) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.nextSub
	p.nextSub++
	p.subs[id] = fn
	b := profile.Batch{Revision: p.state.Revision}
	for _, v := range slices.Sorted(maps.Keys(p.state.Bindings)) {
		b.Updates = append(b.Updates, profile.Update{VEth: v, Policy: p.state.Policy(v)})
	}
	fn(b)
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.subs, id)
	}
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
