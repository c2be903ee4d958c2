// Package cores runs conformance cases on niv's own forwarding cores:
// New builds the device a case's setup.txt describes — a vic/vis VIS or a
// vic/iv IV, its ports, vEths bound to the case's port-profiles, vif lists,
// with "control-plane vic" the VIS's vic control plane and with
// "control-plane vdp" VDP's bridge on its evb ports, both wired by
// vic/bind and run on the case's clock — and Target is the conformance.Target that runs cases on it on
// in-memory ports, deterministically. A Device can switch a behaviour of
// the cores off (SourcePruning, Hairpin) to show which cases depend on it.
//
// The `niv vis` device under test serves the same Device on real
// interfaces.
package cores
