package vic_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic"
)

type profiles map[string]vic.ProfileState

func (p profiles) ProfileState(name string) vic.ProfileState { return p[name] }

// TestRefusals: the VIS refuses with the reason and the Linux result code
// that fit — unknown profile (INVALID), disabled profile (BADSTATE), the
// vEth limit (INSUFFICIENT_RESOURCES, max-ports), no VIF id left on the
// IV's port (INSUFFICIENT_RESOURCES, vif-exhausted) — and the IV reports
// it as the vNIC's status.
func TestRefusals(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	iv := vic.NewIVMachine(vic.IVConfig{Session: 1, MaxVIFs: 2})
	vis := vic.NewVISMachine(vic.VISConfig{Session: 2, MaxVEths: 3, Profiles: profiles{"web": vic.ProfileEnabled, "old": vic.ProfileDisabled}}, nil, now)
	l := newLockstep(t, iv, vis, now)
	var msg vic.Message
	ask := func(k byte, profile string) vic.Action {
		return l.ask(vic.VNIC{Instance: vic.UUID{k}, Profile: profile, Epoch: 1})
	}
	for _, tc := range []struct {
		k       byte
		profile string
		result  vic.Result
		reason  vic.Reason
		state   vic.VIFState
	}{
		{1, "nope", vic.ResultInvalid, vic.ReasonUnknownProfile, vic.VIFRefused},
		{2, "old", vic.ResultBadState, vic.ReasonProfileDisabled, vic.VIFRefused},
		{3, "web", vic.ResultSuccess, vic.ReasonNone, vic.VIFBound},
		{4, "web", vic.ResultSuccess, vic.ReasonNone, vic.VIFBound},
		{5, "web", vic.ResultInsufficientResources, vic.ReasonVIFExhausted, vic.VIFRefused}, // the IV holds 2 VIFs
	} {
		a := ask(tc.k, tc.profile)
		assert.Equal(t, tc.result, a.Result, "vNIC %d", tc.k)
		assert.Equal(t, tc.reason, a.Reason, "vNIC %d", tc.k)
		x, ok := iv.VNIC(vic.UUID{tc.k})
		require.True(t, ok)
		assert.Equal(t, tc.state, x.State)
	}
	// A second IV port: the VIS's limit of 3 vEths is reached after one more.
	iv2 := vic.NewIVMachine(vic.IVConfig{Session: 3})
	send2 := func(acts []vic.Action) []vic.Action {
		var out []vic.Action
		for _, a := range acts {
			if a.Kind == vic.ActSend {
				require.NoError(t, vic.Decode(a.Payload, &msg))
				for _, r := range vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Port: 1, Msg: &msg}, now) {
					if r.Kind == vic.ActSend {
						var m2 vic.Message
						require.NoError(t, vic.Decode(r.Payload, &m2))
						out = append(out, iv2.Handle(vic.IVEvent{Kind: vic.IVReceive, Msg: &m2}, now)...)
					}
				}
			}
		}
		return out
	}
	send2(iv2.Handle(vic.IVEvent{Kind: vic.IVTimer}, now))
	// In this order: the first request takes the last place, the second is
	// refused (a map here made the order, and so the test, random).
	for _, c := range []struct {
		k    byte
		want vic.Reason
	}{{6, vic.ReasonNone}, {7, vic.ReasonMaxPorts}} {
		k, want := c.k, c.want
		var got *vic.Action
		for _, a := range send2(iv2.Handle(vic.IVEvent{Kind: vic.IVRequest, VNIC: vic.VNIC{Instance: vic.UUID{k}, Profile: "web", Epoch: 1}}, now)) {
			if a.Kind == vic.ActStatus {
				got = &a
			}
		}
		require.NotNil(t, got, "vNIC %d", k)
		assert.Equal(t, want, got.Reason, "vNIC %d", k)
	}
	assert.Equal(t, 3, vis.Table().Len())
}

// lockstep joins an IV machine and a VIS machine (the IV on port 0) so
// that every message one sends reaches the other at once, and keeps the
// IV's status actions.
type lockstep struct {
	t      *testing.T
	iv     *vic.IVMachine
	vis    *vic.VISMachine
	now    time.Time
	msg    vic.Message
	status []vic.Action
}

// newLockstep starts the pair: the IV's first timer opens the session.
func newLockstep(t *testing.T, iv *vic.IVMachine, vis *vic.VISMachine, now time.Time) *lockstep {
	l := &lockstep{t: t, iv: iv, vis: vis, now: now}
	l.pump(iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, now), true)
	return l
}

// pump delivers the messages acts send (to the VIS when toVIS), and what
// the answers send, until nothing more is sent.
func (l *lockstep) pump(acts []vic.Action, toVIS bool) {
	var sends [][]byte
	for _, a := range acts {
		if a.Kind == vic.ActSend {
			sends = append(sends, append([]byte(nil), a.Payload...))
		}
		if a.Kind == vic.ActStatus {
			l.status = append(l.status, a)
		}
	}
	for _, p := range sends {
		require.NoError(l.t, vic.Decode(p, &l.msg))
		if toVIS {
			l.pump(l.vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Msg: &l.msg}, l.now), false)
		} else {
			l.pump(l.iv.Handle(vic.IVEvent{Kind: vic.IVReceive, Msg: &l.msg}, l.now), true)
		}
	}
}

// ask requests a vEth for n at the IV and returns the one status it
// reports.
func (l *lockstep) ask(n vic.VNIC) vic.Action {
	l.status = nil
	l.pump(l.iv.Handle(vic.IVEvent{Kind: vic.IVRequest, VNIC: n}, l.now), true)
	require.Len(l.t, l.status, 1)
	return l.status[0]
}
