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
	var msg vic.Message
	var status []vic.Action
	var pump func(acts []vic.Action, toVIS bool)
	pump = func(acts []vic.Action, toVIS bool) {
		var sends [][]byte
		for _, a := range acts {
			if a.Kind == vic.ActSend {
				sends = append(sends, append([]byte(nil), a.Payload...))
			}
			if a.Kind == vic.ActStatus {
				status = append(status, a)
			}
		}
		for _, p := range sends {
			require.NoError(t, vic.Decode(p, &msg))
			if toVIS {
				pump(vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Msg: &msg}, now), false)
			} else {
				pump(iv.Handle(vic.IVEvent{Kind: vic.IVReceive, Msg: &msg}, now), true)
			}
		}
	}
	pump(iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, now), true)
	ask := func(k byte, profile string) vic.Action {
		status = nil
		pump(iv.Handle(vic.IVEvent{Kind: vic.IVRequest, VNIC: vic.VNIC{Instance: vic.UUID{k}, Profile: profile, Epoch: 1}}, now), true)
		require.Len(t, status, 1)
		return status[0]
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
