package fuzz

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

var vicSentinels = []error{vic.ErrShortBuffer, vic.ErrNotVIC, vic.ErrVersion, vic.ErrCommand, vic.ErrReserved,
	vic.ErrLength, vic.ErrDuplicate, vic.ErrRange, vic.ErrMissing}

// vicSeeds are one message of each command, encoded, plus the subtype-2
// payloads of the seed captures.
func vicSeeds(tb testing.TB) [][]byte {
	u := vic.UUID{0xa1, 0x41, 0x28, 0x57}
	msgs := []vic.Message{
		{Command: vic.CmdOpen, Session: 1, TxID: 1, Present: vic.FieldCaps | vic.FieldPeerSession, Caps: vic.Capabilities{Mode: vntag.ModeETag, MaxVIFs: 4095, KeepaliveMS: 1000}},
		{Command: vic.CmdOpen, Response: true, Session: 2, TxID: 1, Result: vic.ResultSuccess, Present: vic.FieldPeerSession, PeerSession: 1},
		{Command: vic.CmdKeepalive, Session: 1, TxID: 2, Present: vic.FieldPeerSession, PeerSession: 2},
		{Command: vic.CmdVIFAlloc, Session: 1, TxID: 3, Present: vic.FieldMAC | vic.FieldProfile | vic.FieldInstance | vic.FieldVLAN | vic.FieldLink | vic.FieldEpoch,
			MAC: [6]byte{2, 0, 0, 0, 0, 7}, Profile: []byte("web"), Instance: u, VLAN: 10, Up: true, Epoch: 1},
		{Command: vic.CmdVIFAlloc, Response: true, Session: 2, TxID: 3, Result: vic.ResultSuccess, Present: vic.FieldPeerSession | vic.FieldInstance | vic.FieldVIF | vic.FieldVEth | vic.FieldEpoch,
			PeerSession: 1, Instance: u, VIF: 5, VEth: 9, Epoch: 1},
		{Command: vic.CmdVIFAlloc, Response: true, Session: 2, TxID: 3, Result: vic.ResultInsufficientResources, Reason: vic.ReasonVIFExhausted, Present: vic.FieldPeerSession | vic.FieldInstance, PeerSession: 1, Instance: u},
		{Command: vic.CmdVIFLink, Session: 1, TxID: 4, Present: vic.FieldInstance | vic.FieldVIF | vic.FieldLink | vic.FieldEpoch, Instance: u, VIF: 5, Epoch: 1},
		{Command: vic.CmdVIFDelete, Session: 1, TxID: 5, Present: vic.FieldInstance | vic.FieldVIF | vic.FieldEpoch, Instance: u, VIF: 5, Epoch: 1},
		{Command: vic.CmdVIFDetach, Session: 1, TxID: 6, Present: vic.FieldInstance | vic.FieldEpoch, Instance: u, Epoch: 1},
		{Command: vic.CmdVIFRemove, Session: 2, TxID: 1, Present: vic.FieldInstance | vic.FieldVIF | vic.FieldEpoch, Instance: u, VIF: 5, Epoch: 2},
		{Command: vic.CmdVIFList, Session: 2, TxID: 2, Present: vic.FieldVIFList, ListID: 3, Members: []vntag.VIF{5, 6}},
		{Command: vic.CmdResyncDone, Session: 1, TxID: 7},
	}
	var out [][]byte
	for _, m := range msgs {
		b, err := m.AppendBinary(nil)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	for _, fr := range captureFrames(tb) {
		if p, err := ecp.Decode(fr); err == nil && p.Subtype == ecp.SubtypePECSP {
			out = append(out, p.Payload)
		}
	}
	return out
}

// FuzzVIC: Decode never panics; what it accepts encodes and decodes back
// to the same message; what it refuses is a *DecodeError wrapping a
// sentinel.
func FuzzVIC(f *testing.F) {
	for _, b := range vicSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m vic.Message
		err := vic.Decode(b, &m)
		if err != nil {
			var de *vic.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is no *DecodeError", err)
			}
			ok := false
			for _, s := range vicSentinels {
				ok = ok || errors.Is(err, s)
			}
			if !ok {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		out, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("accepted %x but cannot encode it: %v", b, err)
		}
		var m2 vic.Message
		if err := vic.Decode(out, &m2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		m.Unknown = 0
		if len(m.Profile) == 0 {
			m.Profile, m2.Profile = nil, nil
		}
		if len(m.Members) == 0 {
			m.Members, m2.Members = nil, nil
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip:\n%+v\n%+v", m, m2)
		}
	})
}

// ivCheck and visCheck are data paths that check the programming calls
// the machines make: no VIF bound twice on an IV (or a VIS port), no
// unbind of what is not bound.
type ivCheck struct {
	t    *rapid.T
	vifs map[vntag.VIF]vic.UUID
}

func (c *ivCheck) BindVIF(vif vntag.VIF, n vic.VNIC, _ uint32) error {
	if u, ok := c.vifs[vif]; ok && u != n.Instance {
		c.t.Fatalf("IV: VIF %d bound to %v and %v", vif, u, n.Instance)
	}
	c.vifs[vif] = n.Instance
	return nil
}
func (c *ivCheck) UnbindVIF(vif vntag.VIF) error {
	if _, ok := c.vifs[vif]; !ok {
		c.t.Fatalf("IV: unbind of unbound VIF %d", vif)
	}
	delete(c.vifs, vif)
	return nil
}
func (c *ivCheck) SetVIFLink(vntag.VIF, bool) error     { return nil }
func (c *ivCheck) SetVIFList(uint32, []vntag.VIF) error { return nil }

type visKey struct {
	p   vic.PortID
	vif vntag.VIF
}

type visCheck struct {
	t     *rapid.T
	binds map[visKey]uint32
}

func (c *visCheck) SetVEth(uint32, vic.VNIC) error { return nil }
func (c *visCheck) DeleteVEth(uint32) error        { return nil }
func (c *visCheck) BindVIF(p vic.PortID, vif vntag.VIF, id uint32) error {
	if v, ok := c.binds[visKey{p, vif}]; ok && v != id {
		c.t.Fatalf("VIS: VIF %d on port %d bound to vEths %d and %d", vif, p, v, id)
	}
	c.binds[visKey{p, vif}] = id
	return nil
}
func (c *visCheck) UnbindVIF(p vic.PortID, vif vntag.VIF) error {
	if _, ok := c.binds[visKey{p, vif}]; !ok {
		c.t.Fatalf("VIS: unbind of unbound VIF %d on port %d", vif, p)
	}
	delete(c.binds, visKey{p, vif})
	return nil
}
func (c *visCheck) SetVEthLink(uint32, bool) error { return nil }

// vicMachine is the property of FuzzVICMachine and TestVICMachine: an IV
// machine and a VIS machine fed a drawn sequence of inputs — vic messages
// (the seed messages, mutated or not, or arbitrary bytes), hypervisor
// requests, deletes and releases, time, VIF lists from the VIS core —
// with what each sends delivered to the other on demand, so drawn input
// also steers a real exchange. Neither may panic, fail to encode what it
// sends, or program a VIF twice.
func vicMachine(seeds [][]byte) func(*rapid.T) {
	return func(t *rapid.T) {
		now := time.Unix(1, 0)
		iv := vic.NewIVMachine(vic.IVConfig{Session: 10, MaxVIFs: 8})
		vis := vic.NewVISMachine(vic.VISConfig{Session: 20}, nil, now)
		ivp := &ivCheck{t: t, vifs: map[vntag.VIF]vic.UUID{}}
		visp := &visCheck{t: t, binds: map[visKey]uint32{}}
		var toVIS, toIV [][]byte
		var msg vic.Message
		ivDo := func(acts []vic.Action) {
			for i := range acts {
				if acts[i].Kind == vic.ActSend {
					toVIS = append(toVIS, append([]byte(nil), acts[i].Payload...))
				} else if err := acts[i].ApplyIV(ivp); err != nil {
					t.Fatal(err)
				}
			}
		}
		visDo := func(acts []vic.Action) {
			for i := range acts {
				if acts[i].Kind == vic.ActSend {
					toIV = append(toIV, append([]byte(nil), acts[i].Payload...))
				} else if err := acts[i].ApplyVIS(visp); err != nil {
					t.Fatal(err)
				}
			}
		}
		vnic := rapid.Custom(func(t *rapid.T) vic.VNIC {
			return vic.VNIC{Instance: vic.UUID{byte(rapid.IntRange(1, 4).Draw(t, "vnic"))}}
		})
		ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, now))
		t.Repeat(map[string]func(*rapid.T){
			"message": func(t *rapid.T) {
				if vic.Decode(drawFrame(t, seeds), &msg) != nil {
					return
				}
				if msg.Response == (msg.Command == vic.CmdVIFRemove || msg.Command == vic.CmdVIFList) {
					visDo(vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Msg: &msg}, now))
				} else {
					ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVReceive, Msg: &msg}, now))
				}
			},
			"request": func(t *rapid.T) {
				n := vnic.Draw(t, "request")
				n.Profile = "p"
				n.Epoch = uint32(rapid.IntRange(0, 3).Draw(t, "epoch"))
				n.Up = rapid.Bool().Draw(t, "up")
				ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVRequest, VNIC: n}, now))
			},
			"delete": func(t *rapid.T) {
				kind := rapid.SampledFrom([]vic.IVEventKind{vic.IVDelete, vic.IVRelease}).Draw(t, "kind")
				ivDo(iv.Handle(vic.IVEvent{Kind: kind, VNIC: vnic.Draw(t, "delete")}, now))
			},
			"deliver": func(t *rapid.T) {
				// Everything in flight, or only the first few messages.
				n := rapid.IntRange(1, 64).Draw(t, "messages")
				for ; n > 0 && (len(toVIS) > 0 || len(toIV) > 0); n-- {
					if len(toVIS) > 0 {
						p := toVIS[0]
						toVIS = toVIS[1:]
						if err := vic.Decode(p, &msg); err != nil {
							t.Fatalf("IV sent what does not decode: %v", err)
						}
						visDo(vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Msg: &msg}, now))
					}
					if len(toIV) > 0 {
						p := toIV[0]
						toIV = toIV[1:]
						if err := vic.Decode(p, &msg); err != nil {
							t.Fatalf("VIS sent what does not decode: %v", err)
						}
						ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVReceive, Msg: &msg}, now))
					}
				}
			},
			"time": func(t *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(0, 65535).Draw(t, "ms")) * time.Millisecond)
				ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, now))
				visDo(vis.Handle(vic.VISEvent{Kind: vic.VISTimer}, now))
			},
			"list": func(t *rapid.T) {
				members := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) vntag.VIF { return vntag.VIF(rapid.Uint16Range(1, 63).Draw(t, "vif")) }), 0, 8).Draw(t, "members")
				visDo(vis.Handle(vic.VISEvent{Kind: vic.VISSetVIFList, ListID: 1, Members: members}, now))
			},
			"": func(t *rapid.T) {
				if iv.EncodeFailures() != 0 || vis.EncodeFailures() != 0 {
					t.Fatalf("encode failures: IV %d, VIS %d", iv.EncodeFailures(), vis.EncodeFailures())
				}
			},
		})
	}
}

// TestVICMachine checks vicMachine on rapid's random sequences, on every
// go test run.
func TestVICMachine(t *testing.T) {
	rapid.Check(t, vicMachine(vicSeeds(t)))
}

// FuzzVICMachine is vicMachine as a coverage-guided fuzz target.
func FuzzVICMachine(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(vicMachine(vicSeeds(f))))
}
