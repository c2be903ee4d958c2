// Package conformance is niv's pcap-driven conformance suite for
// interface virtualizers (IVs) and virtual interface switches (VISes):
// cases written as captures that say what a correct device does, and a
// runner that checks a device against them.
//
// A case is a folder (see README.md beside this file for the format): a
// setup in text — the device (IV or VIS), its ports, vEths bound to
// port-profiles in the profile package's language, vif lists, timers and
// the steps taken between frames (clock advances, profile edits, admin
// down) — input frames as pcapng whose interface names are the port names,
// in send order, and expected output frames likewise per port and in order.
// Each case's README.md states the expected frames' tag fields with
// Wireshark's field names; a test checks want.pcapng against them with
// tshark, so an expected output is never just what niv once produced.
//
// A Runner runs cases against a Target: DUT runs them against a device
// under test over real interfaces, sending each frame out of the interface
// mapped to its port and capturing what comes back; package
// conformance/cores runs them on niv's own cores (vic/vis, vic/iv) on
// in-memory ports, deterministically, and can switch a behaviour of the
// cores off to show which cases depend on it. A failing case reports its
// first differing frame as a field-level Diff.
//
// The cases of the suite are in testdata/; `niv conform` runs them from the
// command line.
package conformance
