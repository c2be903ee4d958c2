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
