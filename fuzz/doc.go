// Package fuzz holds niv's native Go fuzz targets: one per decoder and per
// state machine's message handler. The package has no API; its targets live
// in *_test.go files and are run with
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzVNTag$' -fuzztime 1h
//
// Every target seeds itself from what the repository holds (the spec's
// byte examples, hand-built messages and frames, the conformance cases,
// the profile parser's test files) and replays testdata/fuzz/<Target>/;
// the third-party captures in ../shared, when present, are extra seeds.
// The state-machine targets (FuzzECPMachine, FuzzVICMachine) are
// pgregory.net/rapid properties made into fuzz targets with rapid.MakeFuzz;
// the same properties run under rapid.Check in TestECPMachine and
// TestVICMachine.
package fuzz
