package profile

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Store holds the configuration (profiles, access lists, policy-maps) and
// the bindings of vEths to profiles, and tells subscribers about every
// committed change as compiled policies.
//
// The interface is kept narrow so that a store backed by a distributed
// key-value database can implement it: the whole state is one versioned
// value (State; its Config.Text() and Bindings are a complete
// serialisation), Update is a read–modify–compare-and-swap built from
// NewTxn and Txn.Prepare, and Subscribe is a watch on the revision.
type Store interface {
	// Snapshot returns the committed state. It must not be modified.
	Snapshot() *State
	// Update runs edit on a transaction over the committed state and
	// commits the result if edit returns nil and the result is valid. The
	// commit is all or nothing: on any error the store is unchanged. On
	// success every subscriber receives, in one Batch, the new policy of
	// every vEth the change affects, before Update returns. It returns the
	// new revision.
	Update(edit func(*Txn) error) (uint64, error)
	// Subscribe calls fn with a Batch holding the current policy of every
	// bound vEth, then with a Batch for every later commit, in revision
	// order. fn must not call back into the store. The returned function
	// stops the subscription.
	Subscribe(fn func(Batch)) (cancel func())
}

// State is one committed revision of a store.
type State struct {
	Revision uint64
	Config   *Config
	// Bindings maps each bound vEth to its profile's name.
	Bindings map[VEthID]string

	policies map[string]*Policy // compiled, for profiles with bindings
	counts   map[string]int     // bound vEths per profile, for profiles with bindings

	// Set by Txn.Prepare on a bindings-only edit, for Rebase: the state
	// it was prepared on and its Batch.
	from  *State
	batch Batch
}

// EmptyState returns revision 0: no configuration, no bindings.
func EmptyState() *State {
	return &State{Config: NewConfig(), Bindings: map[VEthID]string{}, policies: map[string]*Policy{}, counts: map[string]int{}}
}

// Bound returns how many vEths are bound to profile name.
func (s *State) Bound(name string) int { return s.counts[name] }

// Policy returns the compiled policy of vEth v, or nil if v is not bound.
func (s *State) Policy(v VEthID) *Policy {
	name, ok := s.Bindings[v]
	if !ok {
		return nil
	}
	return s.policies[name]
}

// Batch is what subscribers receive for one commit: the new policy of every
// affected vEth.
type Batch struct {
	Revision uint64
	Updates  []Update
}

// Update is one vEth's new policy. A nil Policy means the vEth was unbound:
// its frames must be dropped (VEth.SetPolicy(nil) does so).
type Update struct {
	VEth   VEthID
	Policy *Policy
}

// Txn is an edit in progress over a base State. Its changes are visible only
// to itself until a Store commits it.
//
// The transaction holds only what it changes: the configuration is copied
// when first touched (Configure, Config), and bindings are kept as changes
// over the base's, so that binding one vEth costs work for that vEth, not
// for every vEth bound.
type Txn struct {
	base    *State
	cfg     *Config // nil while the configuration is the base's
	changes map[VEthID]change
}

// change is a binding a Txn sets (bound) or removes.
type change struct {
	name  string
	bound bool
}

// NewTxn starts a transaction on base. Store implementations use it; users
// get a Txn from Store.Update.
func NewTxn(base *State) *Txn {
	return &Txn{base: base, changes: map[VEthID]change{}}
}

// Configure applies configuration text to the transaction, as Config.Apply
// does. A line that fails leaves the transaction as it was before the call.
func (t *Txn) Configure(text string) error {
	next := t.Config().Clone()
	if err := next.Apply(text); err != nil {
		return err
	}
	t.cfg = next
	return nil
}

// Config returns the transaction's working configuration. It may be edited
// directly; access-list entry slices must be replaced, not written into.
func (t *Txn) Config() *Config {
	if t.cfg == nil {
		t.cfg = t.base.Config.Clone()
	}
	return t.cfg
}

// Bind attaches vEth v to profile name (replacing any earlier binding); it is
// checked when the transaction commits.
func (t *Txn) Bind(v VEthID, name string) {
	t.changes[v] = change{name: name, bound: true}
}

// Unbind detaches vEth v; ErrNotFound if it is not bound.
func (t *Txn) Unbind(v VEthID) error {
	if _, ok := t.binding(v); !ok {
		return configErr(ErrNotFound, v.String(), "not bound to a port-profile")
	}
	t.changes[v] = change{}
	return nil
}

// binding returns v's profile in the transaction.
func (t *Txn) binding(v VEthID) (string, bool) {
	if c, ok := t.changes[v]; ok {
		return c.name, c.bound
	}
	name, ok := t.base.Bindings[v]
	return name, ok
}

// bindings returns the transaction's bindings, a new map.
func (t *Txn) bindings() map[VEthID]string {
	m := maps.Clone(t.base.Bindings)
	for v, c := range t.changes {
		if c.bound {
			m[v] = c.name
		} else {
			delete(m, v)
		}
	}
	return m
}

// Prepare validates the transaction and computes the state it would commit
// (revision base+1) and the Batch to deliver: the policy of every vEth whose
// binding changed or whose profile now compiles differently (an edit of a
// parent reaches the vEths of all its descendants). Policies of unaffected
// profiles are reused, not recompiled. Store implementations commit the
// State only if the base is still current.
//
// A transaction that leaves the configuration alone checks and compiles
// only the bindings it changes (the others were checked when committed),
// and only the profiles they gain.
func (t *Txn) Prepare() (*State, Batch, error) {
	bindings := t.bindings()
	if t.cfg == nil {
		return t.prepareBindings(bindings)
	}
	if err := t.checkDeletions(bindings); err != nil {
		return nil, Batch{}, err
	}
	if err := t.cfg.Validate(); err != nil {
		return nil, Batch{}, err
	}
	if err := t.checkBindings(bindings); err != nil {
		return nil, Batch{}, err
	}
	return build(t.base, t.base.Revision+1, t.cfg, bindings, true)
}

// prepareBindings is Prepare for a transaction that changes only bindings.
func (t *Txn) prepareBindings(bindings map[VEthID]string) (*State, Batch, error) {
	base, cfg := t.base, t.base.Config
	next := &State{Revision: base.Revision + 1, Config: cfg, Bindings: bindings,
		policies: maps.Clone(base.policies), counts: maps.Clone(base.counts), from: base}
	b := Batch{Revision: next.Revision}
	ids := slices.Sorted(maps.Keys(t.changes))
	var gained []string
	acls := map[string]*compiledACL{}
	for _, v := range ids {
		c := t.changes[v]
		old, was := base.Bindings[v]
		if was == c.bound && old == c.name {
			continue
		}
		if c.bound {
			p, ok := cfg.Profiles[c.name]
			if !ok {
				return nil, Batch{}, configErr(ErrUndefined, v.String(), "inherit port-profile %s: no such port-profile", c.name)
			}
			if p.Type != Vethernet {
				return nil, Batch{}, configErr(ErrTypeMismatch, v.String(), "port-profile %s is an ethernet (uplink) profile; a vEth needs a vethernet profile", c.name)
			}
			if _, ok := next.policies[c.name]; !ok {
				pol, err := compile(cfg, c.name, next.Revision, acls)
				if err != nil {
					return nil, Batch{}, err
				}
				next.policies[c.name] = pol
			}
			next.counts[c.name]++
			gained = append(gained, c.name)
		}
		if was {
			if next.counts[old]--; next.counts[old] <= 0 {
				delete(next.counts, old)
			}
		}
		b.Updates = append(b.Updates, Update{VEth: v, Policy: next.policies[c.name]})
	}
	slices.Sort(gained)
	for _, name := range slices.Compact(gained) {
		p := cfg.Profiles[name]
		if n := next.counts[name]; n > p.maxPorts() {
			return nil, Batch{}, configErr(ErrMaxPorts, p.object(), "%d vEths are bound but max-ports is %d", n, p.maxPorts())
		}
	}
	for name := range next.policies {
		if next.counts[name] == 0 {
			delete(next.policies, name)
		}
	}
	next.batch = b
	return next, b, nil
}

// Rebase returns next, a State that Txn.Prepare returned, as committed at
// revision rev over base with configuration cfg, and the Batch from base.
// When next changed only bindings and was prepared on base with cfg, that
// costs what the changed bindings cost; otherwise it is Follow(base, rev,
// cfg, next.Bindings). rev must be greater than base.Revision.
func Rebase(base *State, rev uint64, cfg *Config, next *State) (*State, Batch) {
	if next.from != base || next.Config != cfg {
		return Follow(base, rev, cfg, next.Bindings)
	}
	s := &State{Revision: rev, Config: cfg, Bindings: next.Bindings, policies: next.policies, counts: next.counts}
	if rev != next.Revision {
		// Policies compiled for next carry its revision: compile them again.
		s.policies = maps.Clone(next.policies)
		acls := map[string]*compiledACL{}
		for name, p := range next.policies {
			if base.policies[name] != p {
				s.policies[name], _ = compile(cfg, name, rev, acls)
			}
		}
	}
	b := Batch{Revision: rev, Updates: make([]Update, len(next.batch.Updates))}
	for i, u := range next.batch.Updates {
		b.Updates[i] = Update{VEth: u.VEth, Policy: s.Policy(u.VEth)}
	}
	return s, b
}

// Follow returns the State at revision rev holding cfg and bindings, and
// the Batch that takes subscribers from base to it. It is for a store that
// follows changes committed elsewhere (a replica of a shared store, fed by
// a watch): what was committed is not refused again. A vEth whose profile
// is missing or does not compile gets no policy (nil: its frames are
// dropped, as for an unbound vEth). As in Prepare, policies of profiles
// whose inputs did not change are reused, not recompiled. rev must be
// greater than base.Revision.
func Follow(base *State, rev uint64, cfg *Config, bindings map[VEthID]string) (*State, Batch) {
	next, b, _ := build(base, rev, cfg, bindings, false)
	return next, b
}

// build compiles the policies of the profiles bindings use and the Batch
// from base. strict fails on a profile that does not compile; otherwise
// its vEths get no policy.
func build(base *State, rev uint64, cfg *Config, bindings map[VEthID]string, strict bool) (*State, Batch, error) {
	next := &State{Revision: rev, Config: cfg, Bindings: bindings, policies: map[string]*Policy{}, counts: map[string]int{}}
	acls := map[string]*compiledACL{}
	for _, name := range bindings {
		next.counts[name]++
		if _, done := next.policies[name]; done {
			continue
		}
		if old, ok := base.policies[name]; ok && sameInputs(base.Config, cfg, name) {
			next.policies[name] = old
			continue
		}
		p, err := compile(cfg, name, next.Revision, acls)
		if err != nil && strict {
			return nil, Batch{}, err
		}
		next.policies[name] = p // nil when it does not compile
	}
	b := Batch{Revision: next.Revision}
	for v := range base.Bindings {
		if _, still := bindings[v]; !still {
			b.Updates = append(b.Updates, Update{VEth: v})
		}
	}
	for v := range bindings {
		if p := next.Policy(v); p != base.Policy(v) {
			b.Updates = append(b.Updates, Update{VEth: v, Policy: p})
		}
	}
	slices.SortFunc(b.Updates, func(x, y Update) int { return cmpU32(uint32(x.VEth), uint32(y.VEth)) })
	return next, b, nil
}

// checkDeletions refuses to delete what is still used: a profile bound to
// vEths or inherited, an access list or policy-map a profile applies.
func (t *Txn) checkDeletions(bindings map[VEthID]string) error {
	old := t.base.Config
	for _, name := range sortedKeys(old.Profiles) {
		if _, ok := t.cfg.Profiles[name]; ok {
			continue
		}
		var users []string
		for _, v := range slices.Sorted(maps.Keys(bindings)) {
			if bindings[v] == name {
				users = append(users, v.String())
			}
		}
		for _, child := range sortedKeys(t.cfg.Profiles) {
			if t.cfg.Profiles[child].Inherit == name {
				users = append(users, "port-profile "+child)
			}
		}
		if len(users) > 0 {
			return configErr(ErrInUse, "port-profile "+name, "cannot delete it: in use by %s; unbind or change them first", listUsers(users))
		}
	}
	for _, pname := range sortedKeys(t.cfg.Profiles) {
		p := t.cfg.Profiles[pname]
		for d := In; d <= Out; d++ {
			for _, use := range []struct {
				kind, name string
				was, is    bool
			}{
				{"ip access-list", p.IPAccessGroup[d], hasKey(old.IPACLs, p.IPAccessGroup[d]), hasKey(t.cfg.IPACLs, p.IPAccessGroup[d])},
				{"mac access-list", p.MACAccessGroup[d], hasKey(old.MACACLs, p.MACAccessGroup[d]), hasKey(t.cfg.MACACLs, p.MACAccessGroup[d])},
				{"policy-map", p.ServicePolicy[d], hasKey(old.QoSPolicies, p.ServicePolicy[d]), hasKey(t.cfg.QoSPolicies, p.ServicePolicy[d])},
			} {
				if use.name != "" && use.was && !use.is {
					return configErr(ErrInUse, use.kind+" "+use.name, "cannot delete it: port-profile %s applies it; remove it there first", pname)
				}
			}
		}
	}
	return nil
}

// checkBindings checks every binding: the profile exists, is a vethernet
// profile, and has room under its max-ports.
func (t *Txn) checkBindings(bindings map[VEthID]string) error {
	count := map[string]int{}
	for _, v := range slices.Sorted(maps.Keys(bindings)) {
		name := bindings[v]
		p, ok := t.cfg.Profiles[name]
		if !ok {
			return configErr(ErrUndefined, v.String(), "inherit port-profile %s: no such port-profile", name)
		}
		if p.Type != Vethernet {
			return configErr(ErrTypeMismatch, v.String(), "port-profile %s is an ethernet (uplink) profile; a vEth needs a vethernet profile", name)
		}
		count[name]++
	}
	for _, name := range sortedKeys(count) {
		p := t.cfg.Profiles[name]
		if count[name] > p.maxPorts() {
			return configErr(ErrMaxPorts, p.object(), "%d vEths are bound but max-ports is %d", count[name], p.maxPorts())
		}
	}
	return nil
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}

// listUsers shortens a long list of users for an error message.
func listUsers(users []string) string {
	if len(users) > 5 {
		return strings.Join(users[:5], ", ") + " and " + strconv.Itoa(len(users)-5) + " more"
	}
	return strings.Join(users, ", ")
}
