package conformance_test

import (
	"fmt"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
)

// Run the suite's cases on niv's cores (in memory) and print the report.
func ExampleRunner() {
	cases, err := conformance.LoadAll("testdata")
	if err != nil {
		fmt.Println(err)
		return
	}
	lib := &cores.Target{}
	defer lib.Close()
	r := conformance.Runner{Target: lib}
	results := r.RunAll(cases)
	fmt.Println(len(conformance.Failed(results)), "failed")

	// The same case with hairpin switched off in the VIS fails, and says
	// which frame is missing.
	c, _ := conformance.Load("testdata/vis-vntag-hairpin")
	off := &cores.Target{Off: []cores.Behaviour{cores.Hairpin}}
	defer off.Close()
	res := (&conformance.Runner{Target: off}).Run(c)
	fmt.Print(res.Status(), "\n", res.Diff)
	// Output:
	// 0 failed
	// FAIL
	// port iv1: frame 2 missing (want 2 frames, got 1)
	//   want: eth.dst=02:00:00:00:00:0b eth.src=02:00:00:00:00:0a eth.type=0x8926 vntag.dir=1 vntag.ptr=0 vntag.dst=6 vntag.looped=0 vntag.r=0 vntag.version=0 vntag.src=0 vntag.etype=0x0800 frame.len=66
}
