package vic_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

// A VIS restarted over a restored table gives an IV that announces its
// vNIC again the same vEth id and VIF, and a new vNIC an id above every
// one given out before.
func TestTableRestore(t *testing.T) {
	now := time.Unix(1000, 0)
	u := vic.UUID{1}
	tab := vic.NewTable()
	tab.Restore(vic.VEthRecord{ID: 7, VNIC: vic.VNIC{Instance: u, MAC: [6]byte{2, 0, 0, 0, 0, 1}, Profile: "web", Epoch: 1, Up: true}, Port: 0, VIF: 5, Bound: true}, now)
	tab.SetNext(9)
	s := vic.NewVISMachine(vic.VISConfig{Session: 2}, tab, now)
	send := func(m vic.Message) *vic.Message {
		var got *vic.Message
		for _, a := range s.Handle(vic.VISEvent{Kind: vic.VISReceive, Port: 0, Msg: &m}, now) {
			if a.Kind == vic.ActSend {
				var r vic.Message
				require.NoError(t, vic.Decode(a.Payload, &r))
				got = &r
			}
		}
		require.NotNil(t, got)
		return got
	}
	r := send(vic.Message{Command: vic.CmdOpen, Session: 50, TxID: 1, Present: vic.FieldCaps | vic.FieldPeerSession,
		Caps: vic.Capabilities{Mode: vntag.ModeVNTag, MaxVIFs: 100, KeepaliveMS: 1000}})
	require.Equal(t, vic.ResultSuccess, r.Result)
	alloc := vic.Message{Command: vic.CmdVIFAlloc, Session: 50, TxID: 2, Present: vic.FieldMAC | vic.FieldProfile | vic.FieldInstance | vic.FieldLink | vic.FieldEpoch,
		MAC: [6]byte{2, 0, 0, 0, 0, 1}, Profile: []byte("web"), Instance: u, Up: true, Epoch: 1}
	r = send(alloc)
	assert.Equal(t, vic.ResultSuccess, r.Result)
	assert.Equal(t, uint32(7), r.VEth)
	assert.Equal(t, vntag.VIF(5), r.VIF)

	alloc.TxID, alloc.Instance, alloc.MAC = 3, vic.UUID{2}, [6]byte{2, 0, 0, 0, 0, 2}
	r = send(alloc)
	assert.Equal(t, uint32(10), r.VEth, "ids are not given out twice")
	assert.NotEqual(t, vntag.VIF(5), r.VIF)
	assert.Equal(t, uint32(10), tab.Next())
}

// profilesFull says every profile is full.
type profilesFull struct{}

func (profilesFull) ProfileState(string) vic.ProfileState { return vic.ProfileFull }

// A full profile refuses a new vEth with max-ports, and still answers a
// vEth already bound to it that announces itself again.
func TestProfileFull(t *testing.T) {
	now := time.Unix(1000, 0)
	u := vic.UUID{1}
	tab := vic.NewTable()
	tab.Restore(vic.VEthRecord{ID: 7, VNIC: vic.VNIC{Instance: u, Profile: "web", Epoch: 1, Up: true}, Port: 0, VIF: 5, Bound: true}, now)
	s := vic.NewVISMachine(vic.VISConfig{Session: 2, Profiles: profilesFull{}}, tab, now)
	send := func(m vic.Message) *vic.Message {
		var got *vic.Message
		for _, a := range s.Handle(vic.VISEvent{Kind: vic.VISReceive, Port: 0, Msg: &m}, now) {
			if a.Kind == vic.ActSend {
				var r vic.Message
				require.NoError(t, vic.Decode(a.Payload, &r))
				got = &r
			}
		}
		require.NotNil(t, got)
		return got
	}
	send(vic.Message{Command: vic.CmdOpen, Session: 50, TxID: 1, Present: vic.FieldCaps | vic.FieldPeerSession,
		Caps: vic.Capabilities{Mode: vntag.ModeVNTag, MaxVIFs: 100, KeepaliveMS: 1000}})
	alloc := vic.Message{Command: vic.CmdVIFAlloc, Session: 50, TxID: 2, Present: vic.FieldMAC | vic.FieldProfile | vic.FieldInstance | vic.FieldLink | vic.FieldEpoch,
		Profile: []byte("web"), Instance: u, Up: true, Epoch: 1}
	r := send(alloc)
	assert.Equal(t, vic.ResultSuccess, r.Result, "the vEth already there keeps its place")
	assert.Equal(t, uint32(7), r.VEth)
	alloc.TxID, alloc.Instance = 3, vic.UUID{2}
	r = send(alloc)
	assert.Equal(t, vic.ReasonMaxPorts, r.Reason, "a new vEth is refused")
	assert.Equal(t, 1, tab.Len())
}
