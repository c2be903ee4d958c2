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
}

// EmptyState returns revision 0: no configuration, no bindings.
func EmptyState() *State {
	return &State{Config: NewConfig(), Bindings: map[VEthID]string{}, policies: map[string]*Policy{}}
}

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
type Txn struct {
	base     *State
	cfg      *Config
	bindings map[VEthID]string
}

// NewTxn starts a transaction on base. Store implementations use it; users
// get a Txn from Store.Update.
func NewTxn(base *State) *Txn {
	return &Txn{base: base, cfg: base.Config.Clone(), bindings: maps.Clone(base.Bindings)}
}

// Configure applies configuration text to the transaction, as Config.Apply
// does. A line that fails leaves the transaction as it was before the call.
func (t *Txn) Configure(text string) error {
	next := t.cfg.Clone()
	if err := next.Apply(text); err != nil {
		return err
	}
	t.cfg = next
	return nil
}

// Config returns the transaction's working configuration. It may be edited
// directly; access-list entry slices must be replaced, not written into.
func (t *Txn) Config() *Config { return t.cfg }

// Bind attaches vEth v to profile name (replacing any earlier binding); it is
// checked when the transaction commits.
func (t *Txn) Bind(v VEthID, name string) {
	t.bindings[v] = name
}

// Unbind detaches vEth v; ErrNotFound if it is not bound.
func (t *Txn) Unbind(v VEthID) error {
	if _, ok := t.bindings[v]; !ok {
		return configErr(ErrNotFound, v.String(), "not bound to a port-profile")
	}
	delete(t.bindings, v)
	return nil
}

// Prepare validates the transaction and computes the state it would commit
// (revision base+1) and the Batch to deliver: the policy of every vEth whose
// binding changed or whose profile now compiles differently (an edit of a
// parent reaches the vEths of all its descendants). Policies of unaffected
// profiles are reused, not recompiled. Store implementations commit the
// State only if the base is still current.
func (t *Txn) Prepare() (*State, Batch, error) {
	if err := t.checkDeletions(); err != nil {
		return nil, Batch{}, err
	}
	if err := t.cfg.Validate(); err != nil {
		return nil, Batch{}, err
	}
	if err := t.checkBindings(); err != nil {
		return nil, Batch{}, err
	}
	return build(t.base, t.base.Revision+1, t.cfg, t.bindings, true)
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
	next := &State{Revision: rev, Config: cfg, Bindings: bindings, policies: map[string]*Policy{}}
	acls := map[string]*compiledACL{}
	for _, name := range bindings {
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
func (t *Txn) checkDeletions() error {
	old := t.base.Config
	for _, name := range sortedKeys(old.Profiles) {
		if _, ok := t.cfg.Profiles[name]; ok {
			continue
		}
		var users []string
		for _, v := range t.sortedBindings() {
			if t.bindings[v] == name {
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
func (t *Txn) checkBindings() error {
	count := map[string]int{}
	for _, v := range t.sortedBindings() {
		name := t.bindings[v]
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

func (t *Txn) sortedBindings() []VEthID {
	ids := slices.Collect(maps.Keys(t.bindings))
	slices.Sort(ids)
	return ids
}

// listUsers shortens a long list of users for an error message.
func listUsers(users []string) string {
	if len(users) > 5 {
		return strings.Join(users[:5], ", ") + " and " + strconv.Itoa(len(users)-5) + " more"
	}
	return strings.Join(users, ", ")
}
