// Package fuzz holds niv's native Go fuzz targets: one per decoder and per
// state machine's message handler. The package has no API; its targets live
// in *_test.go files and are run with
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzVNTag$' -fuzztime 1h
//
// Seed corpora come from the spec's byte examples and from the third-party
// captures in ../shared/corpus, read at run time; crashers found by the
// fuzzer are kept under testdata/fuzz/<Target>/ and replayed by every
// go test run.
package fuzz
