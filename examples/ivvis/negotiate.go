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

// plane is the control plane of the in-process demo: vic/bind's IV plane
// and VIS plane on ECP speakers at the two ends of the link. Their Cores
// wrap the pair's cores, so the ECP frames share the link with the tagged
// data frames.
type plane struct {
	iv      *bind.IVPlane
	vis     *bind.VISPlane
	ivCore  port.Core // the IV core behind its Control
	visCore port.Core
	visPort int // the VIS core's port toward the IV
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
	c := &plane{}
	if c.vis, err = bind.NewVISPlane(p.vis, p.store, vic.VISConfig{Session: uint64(time.Now().UnixNano())}); err != nil {
		return nil, nil, err
	}
	if c.visPort, err = c.vis.AddIVPort("iv0", mode, 0, bind.Writer{Port: visEnd}, ecp.DefaultConfig([6]byte{0x02, 0, 0, 0, 0, 0xf0}), nil); err != nil {
		return nil, nil, err
	}
	c.iv, err = bind.NewIVPlane(p.iv, vic.IVConfig{Session: uint64(time.Now().UnixNano())}, iv.FabricA,
		bind.Writer{Port: ivEnd}, ecp.DefaultConfig([6]byte{0x02, 0, 0, 0, 0, 0xe0}), nil)
	if err != nil {
		c.vis.Close()
		return nil, nil, err
	}
	c.ivCore, c.visCore = c.iv.Core(), c.vis.Core()
	return p, c, nil
}

func (c *plane) close() {
	c.iv.Close()
	c.vis.Close()
}

// negotiate asks the VIS for a vEth for each VM's vNIC, one at a time, and
// checks that each gets the VIF, vEth and IV port the demo expects. Then
// it waits until the VIS's flood lists reached the IV.
func (c *plane) negotiate(ctx context.Context, log *logger, p *pair) error {
	for i, v := range vms {
		n := vic.VNIC{Instance: vic.UUID{0x4e, 0x49, 0x56, byte(i + 1)}, Profile: v.profile, Epoch: 1, Up: true}
		copy(n.MAC[:], v.mac)
		c.iv.Agent().Request(n)
		var got vic.IVVNIC
		err := poll(ctx, func() bool {
			var ok bool
			got, ok = c.iv.Agent().VNIC(n.Instance)
			_, _, onCore := c.iv.Programmer().Port(n.Instance)
			return ok && got.State == vic.VIFBound && onCore
		})
		if err != nil {
			return fmt.Errorf("vNIC of VM %s: %w", v.name, err)
		}
		pn, _, _ := c.iv.Programmer().Port(n.Instance)
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
