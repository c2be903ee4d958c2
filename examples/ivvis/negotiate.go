package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/nivkit/niv/profile"
	"github.com/nivkit/niv/vdp/ecp"
	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/bind"
	"github.com/nivkit/niv/vic/iv"
	"github.com/nivkit/niv/vic/port"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// plane is the control plane of the in-process demo: an IV agent and a
// VIS agent on ECP speakers at the two ends of the link, programming the
// pair's cores through vic/bind. The cores are wrapped in bind.Control, so
// the ECP frames share the link with the tagged data frames.
type plane struct {
	ivAgent  *vic.IVAgent
	visAgent *vic.VISAgent
	ivProg   *bind.IVProgrammer
	lists    *bind.Lists
	ivCore   port.Core // the IV core behind its Control
	visCore  port.Core
	visPort  int // the VIS core's port toward the IV
}

// newNegotiatedPair builds the demo's IV and VIS with no vNIC and no vEth,
// and the control plane that will create them, speaking ECP through the
// two ends of the link.
func newNegotiatedPair(mode vntag.Mode, ivEnd, visEnd port.Port) (*pair, *plane, error) {
	p := &pair{mode: mode, store: profile.NewMemStore(), iv: iv.New(iv.Config{Mode: mode})}
	if _, err := p.store.Update(func(tx *profile.Txn) error { return tx.Configure(profiles) }); err != nil {
		return nil, nil, err
	}
	var err error
	if p.vis, err = vis.New(vis.Config{Store: p.store}); err != nil {
		return nil, nil, err
	}
	if err := p.iv.SetUplinkUp(iv.UplinkB, false); err != nil { // fabric B is not cabled
		return nil, nil, err
	}
	visProg, err := bind.NewVISProgrammer(p.vis, p.store)
	if err != nil {
		return nil, nil, err
	}
	c := &plane{lists: bind.NewLists()}
	if c.visPort, err = p.vis.AddIVPort("iv0", mode, c.lists); err != nil {
		return nil, nil, err
	}
	visProg.AddPort(0, c.visPort)
	visSp, err := ecp.NewSpeaker(bind.Writer{Port: visEnd}, ecp.DefaultConfig([6]byte{0x02, 0, 0, 0, 0, 0xf0}))
	if err != nil {
		return nil, nil, err
	}
	c.visAgent = vic.NewVISAgent(vic.VISConfig{Session: uint64(time.Now().UnixNano()), Profiles: bind.Profiles{Store: p.store}}, nil, visProg, nil)
	c.visAgent.AddPort(0, visSp)
	c.lists.Attach(c.visAgent, 0)
	visCtl := bind.NewControl(p.vis)
	visCtl.Attach(c.visPort, visSp)

	ivSp, err := ecp.NewSpeaker(bind.Writer{Port: ivEnd}, ecp.DefaultConfig([6]byte{0x02, 0, 0, 0, 0, 0xe0}))
	if err != nil {
		return nil, nil, err
	}
	c.ivProg = bind.NewIVProgrammer(p.iv, iv.FabricA, nil)
	vm := vntag.ModeVNTag
	if mode == vntag.ModeETag {
		vm = vntag.ModeETag
	}
	c.ivAgent = vic.NewIVAgent(vic.IVConfig{Session: uint64(time.Now().UnixNano()), Mode: vm}, ivSp, c.ivProg, nil)
	ivCtl := bind.NewControl(p.iv)
	ivCtl.Attach(iv.UplinkA, ivSp)
	c.ivCore, c.visCore = ivCtl, visCtl
	return p, c, nil
}

func (c *plane) close() {
	c.ivAgent.Close()
	c.visAgent.Close()
	c.lists.Close()
}

// negotiate asks the VIS for a vEth for each VM's vNIC, one at a time, and
// checks that each gets the VIF, vEth and IV port the demo expects. Then
// it waits until the VIS's flood lists reached the IV.
func (c *plane) negotiate(ctx context.Context, log *logger, p *pair) error {
	for i, v := range vms {
		n := vic.VNIC{Instance: vic.UUID{0x4e, 0x49, 0x56, byte(i + 1)}, Profile: v.profile, Epoch: 1, Up: true}
		copy(n.MAC[:], v.mac)
		c.ivAgent.Request(n)
		var got vic.IVVNIC
		err := poll(ctx, func() bool {
			var ok bool
			got, ok = c.ivAgent.VNIC(n.Instance)
			_, _, onCore := c.ivProg.Port(n.Instance)
			return ok && got.State == vic.VIFBound && onCore
		})
		if err != nil {
			return fmt.Errorf("vNIC of VM %s: %w", v.name, err)
		}
		pn, _, _ := c.ivProg.Port(n.Instance)
		log.printf("  IV → VIS: vNIC %v profile %-3s → VIF %d, vEth%d\n", net.HardwareAddr(n.MAC[:]), v.profile, got.VIF, got.VEth)
		if got.VIF != v.vif || profile.VEthID(got.VEth) != v.veth || pn != iv.FirstVNIC+i {
			return fmt.Errorf("VM %s got VIF %d, vEth%d, IV port %d; the demo expects VIF %d, vEth%d, port %d",
				v.name, got.VIF, got.VEth, pn, v.vif, v.veth, iv.FirstVNIC+i)
		}
	}
	// VLAN 10's flood list, sent to the IV as a vic vif-list.
	err := poll(ctx, func() bool {
		list, vifs, ok := p.vis.FloodList(c.visPort, 10, false)
		if !ok {
			return false
		}
		got, ok := p.iv.VIFList(list)
		return ok && slices.Equal(got, vifs)
	})
	if err != nil {
		return fmt.Errorf("VLAN 10's vif list never reached the IV: %w", err)
	}
	list, vifs, _ := p.vis.FloodList(c.visPort, 10, false)
	if p.mode == vntag.ModeETag {
		log.printf("  VIS → IV: vif list (E-channel GRP=1 E-CID=%d) = VIFs %v, for VLAN 10's floods\n", list&0xFFFFF, vifs)
	} else {
		log.printf("  VIS → IV: vif list %d = VIFs %v, for VLAN 10's floods\n", list, vifs)
	}
	return nil
}

// poll waits until ok holds, for two seconds at most.
func poll(ctx context.Context, ok func() bool) error {
	deadline := time.Now().Add(2 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Microsecond):
		}
	}
	return nil
}
