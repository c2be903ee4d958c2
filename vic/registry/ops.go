package registry

import (
	"context"
	"errors"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/vis"
)

// ErrProfileFull: the vEth's port-profile has as many vEths bound across
// the fleet as its max-ports allows.
var ErrProfileFull = errors.New("registry: port-profile at max-ports across the fleet")

// OpKind says what an Op does.
type OpKind uint8

const (
	// OpBind is Bind at Op.Binding, then, if Op.Config is set, SetConfig.
	OpBind OpKind = iota + 1
	// OpSetConfig is SetConfig with Op.Config.
	OpSetConfig
	// OpCheckpoint is Checkpoint with Op.Delta.
	OpCheckpoint
	// OpRelease is Release with Op.Delta.
	OpRelease
)

// Op is one registry call, to be applied with others in a batch (Batcher,
// Pipeline).
type Op struct {
	Kind     OpKind
	Instance vic.UUID
	Binding  Binding
	Config   *vic.VNIC
	Delta    vis.Counters
}

// Batcher is a Registry that applies many calls at once: a shared one
// groups them into a few transactions instead of a round trip each.
type Batcher interface {
	// Apply applies ops in order, as the calls they stand for would, and
	// returns one error per op (nil: done). Ops on one instance take
	// effect in their order; an op that fails changes nothing.
	Apply(ctx context.Context, ops []Op) []error
}

// Apply applies ops through r: in batches if r is a Batcher, else call by
// call.
func Apply(ctx context.Context, r Registry, ops []Op) []error {
	if b, ok := r.(Batcher); ok {
		return b.Apply(ctx, ops)
	}
	errs := make([]error, len(ops))
	for i, op := range ops {
		switch op.Kind {
		case OpBind:
			_, errs[i] = r.Bind(ctx, op.Instance, op.Binding)
			if errs[i] == nil && op.Config != nil {
				errs[i] = r.SetConfig(ctx, op.Instance, *op.Config)
			}
		case OpSetConfig:
			errs[i] = r.SetConfig(ctx, op.Instance, *op.Config)
		case OpCheckpoint:
			errs[i] = r.Checkpoint(ctx, op.Instance, op.Delta)
		case OpRelease:
			errs[i] = r.Release(ctx, op.Instance, op.Delta)
		}
	}
	return errs
}

// Claim is one vEth to allocate (and, for a BindAll, to bind): its
// instance, the configuration to create it with if it does not exist
// (whose port-profile it counts against), and where to bind it.
type Claim struct {
	Instance vic.UUID
	Config   vic.VNIC
	Binding  Binding
}

// BatchAllocator is a Registry that allocates many vEths at once.
type BatchAllocator interface {
	// AllocateAll does what Allocate does for each claim; it returns a
	// record and an error per claim.
	AllocateAll(ctx context.Context, claims []Claim) ([]Record, []error)
}

// AllocateAll allocates claims through r: at once if r is a
// BatchAllocator, else one by one.
func AllocateAll(ctx context.Context, r Registry, claims []Claim) ([]Record, []error) {
	if b, ok := r.(BatchAllocator); ok {
		return b.AllocateAll(ctx, claims)
	}
	recs := make([]Record, len(claims))
	errs := make([]error, len(claims))
	for i, c := range claims {
		recs[i], errs[i] = r.Allocate(ctx, c.Instance, c.Config)
	}
	return recs, errs
}

// Restorer is a Registry that can tell a VIS starting with no state of
// its own which vEths it held.
type Restorer interface {
	// Restore returns the vEths this VIS held when it stopped and may
	// bind again: those still bound to it (on a lease of an earlier run)
	// and those whose binding expired since, with Binding where it held
	// them (Held says whether that binding is still in place). Those
	// another VIS holds now are not returned.
	Restore(ctx context.Context) ([]Record, error)
}

// BatchGetter is a Registry that reads many vEths at once.
type BatchGetter interface {
	// GetAll does what Get does for each instance.
	GetAll(ctx context.Context, us []vic.UUID) ([]Record, []error)
}

// GetAll reads us through r: at once if r is a BatchGetter, else one by
// one.
func GetAll(ctx context.Context, r Registry, us []vic.UUID) ([]Record, []error) {
	if b, ok := r.(BatchGetter); ok {
		return b.GetAll(ctx, us)
	}
	recs := make([]Record, len(us))
	errs := make([]error, len(us))
	for i, u := range us {
		recs[i], errs[i] = r.Get(ctx, u)
	}
	return recs, errs
}
