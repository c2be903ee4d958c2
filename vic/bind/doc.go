// Package bind wires niv's control plane to its data plane: it adapts the
// forwarding cores of vic/iv and vic/vis to the narrow programming
// interfaces of the vic protocol machines (vic.IVProgrammer,
// vic.VISProgrammer), carries the VIS core's vif lists to the IVs as vic
// vif-list messages (Lists), and lets ECP frames (EtherType 0x8940) share
// the IV–VIS link with the VNTag and E-Tag data frames (Control).
//
// A VIS side is put together like this (an IV side likewise, with
// IVProgrammer and vic.IVAgent):
//
//	core, _ := vis.New(vis.Config{Store: store})
//	prog, _ := bind.NewVISProgrammer(core, store)
//	lists := bind.NewLists()
//	p, _ := core.AddIVPort("iv0", vntag.ModeVNTag, lists)
//	prog.AddPort(0, p)
//	agent := vic.NewVISAgent(vic.VISConfig{Profiles: bind.Profiles{Store: store}}, nil, prog, nil)
//	lists.Attach(agent, 0)
//	sp, _ := ecp.NewSpeaker(bind.Writer{Port: link}, ecp.DefaultConfig(mac))
//	agent.AddPort(0, sp)
//	ctl := bind.NewControl(core)
//	ctl.Attach(p, sp)
//	port.Run(ctx, ctl, ports, port.RunConfig{})
//
// The vis core keeps every vEth the control plane knows, bound or not, so
// that its counters survive a migration and a resync: an unbound vEth
// (detached, or waiting for its IV to announce it again) is parked, shut,
// on a port of its own that no frame reaches (ParkingPort).
package bind
