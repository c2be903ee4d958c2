package fuzz

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vntag"
)

var vicSentinels = []error{vic.ErrShortBuffer, vic.ErrNotVIC, vic.ErrVersion, vic.ErrCommand, vic.ErrReserved,
	vic.ErrLength, vic.ErrDuplicate, vic.ErrRange, vic.ErrMissing}

// vicSeeds are one message of each command, encoded, plus the subtype-2
// payloads of the seed captures.
func vicSeeds(f *testing.F) [][]byte {
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
			f.Fatal(err)
		}
		out = append(out, b)
	}
	for _, fr := range captureFrames(f) {
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
	t    *testing.T
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
func (c *ivCheck) SetVIFList(uint16, []vntag.VIF) error { return nil }

type visKey struct {
	p   vic.PortID
	vif vntag.VIF
}

type visCheck struct {
	t     *testing.T
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

// FuzzVICMachine feeds an IV machine and a VIS machine a fuzzed sequence
// of inputs — vic messages (decoded from fuzzed bytes, seeded with one of
// each command), local requests, time — and checks that they never
// panic, always encode what they send, and never program a VIF twice.
// Messages a machine sends go to the other one, so fuzzed input also
// steers a real exchange.
func FuzzVICMachine(f *testing.F) {
	seeds := vicSeeds(f)
	for _, s := range seeds {
		f.Add(append([]byte{0, byte(len(s))}, s...))
	}
	f.Add([]byte{1, 3, 0, 1, 1, 4, 0, 0, 0, 0, 2, 0, 4, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
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
		ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, now))
		for steps := 0; len(b) >= 2 && steps < 200; steps++ {
			op, n := b[0]%6, int(b[1])
			b = b[2:]
			n = min(n, len(b))
			arg := b[:n]
			switch op {
			case 0: // a fuzzed message to one side
				if vic.Decode(arg, &msg) == nil {
					if msg.Response == (msg.Command == vic.CmdVIFRemove || msg.Command == vic.CmdVIFList) {
						visDo(vis.Handle(vic.VISEvent{Kind: vic.VISReceive, Msg: &msg}, now))
					} else {
						ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVReceive, Msg: &msg}, now))
					}
				}
				b = b[n:]
				continue
			case 1: // the hypervisor asks for vNIC arg[0]%4
				var k byte
				if n > 0 {
					k = arg[0] % 4
				}
				ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVRequest, VNIC: vic.VNIC{Instance: vic.UUID{k + 1}, Profile: "p", Epoch: uint32(n), Up: n%2 == 0}}, now))
			case 2: // delete or release
				var k byte
				if n > 0 {
					k = arg[0] % 4
				}
				kind := vic.IVDelete
				if n%2 == 1 {
					kind = vic.IVRelease
				}
				ivDo(iv.Handle(vic.IVEvent{Kind: kind, VNIC: vic.VNIC{Instance: vic.UUID{k + 1}}}, now))
			case 3: // deliver what is in flight
				for len(toVIS) > 0 || len(toIV) > 0 {
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
			case 4: // time passes
				now = now.Add(time.Duration(binary.BigEndian.Uint16(append(arg, 0, 0))) * time.Millisecond)
				ivDo(iv.Handle(vic.IVEvent{Kind: vic.IVTimer}, now))
				visDo(vis.Handle(vic.VISEvent{Kind: vic.VISTimer}, now))
			case 5: // the VIS core sets a VIF list
				members := make([]vntag.VIF, 0, n/2)
				for i := 0; i+1 < n; i += 2 {
					if v := binary.BigEndian.Uint16(arg[i:]) % 64; v != 0 {
						members = append(members, vntag.VIF(v))
					}
				}
				visDo(vis.Handle(vic.VISEvent{Kind: vic.VISSetVIFList, ListID: 1, Members: members}, now))
			}
			b = b[n:]
			if iv.EncodeFailures() != 0 || vis.EncodeFailures() != 0 {
				t.Fatalf("encode failures: IV %d, VIS %d", iv.EncodeFailures(), vis.EncodeFailures())
			}
		}
	})
}
