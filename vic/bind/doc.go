// Package bind wires niv's control plane to its data plane: it adapts the
// forwarding cores of vic/iv and vic/vis to the narrow programming
// interfaces of the vic protocol machines (vic.IVProgrammer,
// vic.VISProgrammer), carries the VIS core's vif lists to the IVs as vic
// vif-list messages (Lists), and lets ECP frames (EtherType 0x8940) share
// the IV–VIS link with the VNTag and E-Tag data frames (Control).
//
// VISPlane and IVPlane put those pieces together — programmer, vic agent,
// one ECP speaker per link, vif lists over vic, Control in front of the
// core — and are the one wiring of control plane to cores that the
// example, the conformance device and the daemons use:
//
//	core, _ := vis.New(vis.Config{Store: store})
//	plane, _ := bind.NewVISPlane(core, store, vic.VISConfig{Session: session})
//	p, _ := plane.AddIVPort("iv0", vntag.ModeVNTag, 0, bind.Writer{Port: link}, ecp.DefaultConfig(mac), nil)
//	ports[p] = link
//	port.Run(ctx, plane.Core(), ports, port.RunConfig{})
//
// and on the host, with the IV core's uplink of fabric A:
//
//	ivp, _ := bind.NewIVPlane(ivCore, vic.IVConfig{Session: session}, iv.FabricA, bind.Writer{Port: uplink}, ecp.DefaultConfig(mac), nil)
//	ivp.Agent().Request(vnic)
//	port.Run(ctx, ivp.Core(), ivPorts, port.RunConfig{})
//
// The vis core keeps every vEth the control plane knows, bound or not, so
// that its counters survive a migration and a resync: an unbound vEth
// (detached, or waiting for its IV to announce it again) is parked, shut,
// on a port of its own that no frame reaches (ParkingPort).
//
// EVBPlane does the same for a vis core's evb ports: VDP's bridge machine
// (package vdp) on one ECP speaker per port, deciding each VSI request by
// its port-profile ("vdp vsi-type" or niv's profile TLV) and binding each
// associated VSI as a vEth (vis.AddVSI, vis.MoveVSI on a migration).
package bind
