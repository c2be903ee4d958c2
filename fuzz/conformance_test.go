package fuzz

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
)

var (
	casesOnce sync.Once
	suite     []*conformance.Case
	suiteErr  error
)

func loadSuite(f *testing.F) []*conformance.Case {
	casesOnce.Do(func() { suite, suiteErr = conformance.LoadAll("../conformance/testdata") })
	if suiteErr != nil {
		f.Fatal(suiteErr)
	}
	return suite
}

// FuzzConformance mutates the input frames of the conformance cases —
// one frame replaced by the fuzzer's bytes, sent on the fuzzer's choice of
// the case's ports — and runs the case on niv's cores. The runner must
// never panic, must report a mismatch as a failing result with a
// field-level diff, and must agree with itself: a case whose input is
// unchanged passes, and a result passes exactly when the device sent the
// expected frames, port by port.
func FuzzConformance(f *testing.F) {
	cs := loadSuite(f)
	for ci, c := range cs {
		for fi, fr := range c.In {
			f.Add(uint8(ci), uint8(fi), uint8(0), fr.Data)
		}
	}
	lib := &cores.Target{}
	f.Cleanup(lib.Close)
	f.Fuzz(func(t *testing.T, ci, fi, pi uint8, data []byte) {
		orig := cs[int(ci)%len(cs)]
		if len(orig.In) == 0 {
			return
		}
		c := *orig
		c.In = slices.Clone(orig.In)
		i := int(fi) % len(c.In)
		ports := c.Ports()
		p := c.In[i].Port
		if pi != 0 {
			p = ports[int(pi)%len(ports)]
		}
		unchanged := p == c.In[i].Port && bytes.Equal(data, c.In[i].Data)
		c.In[i] = conformance.Frame{Port: p, Data: data}

		res := (&conformance.Runner{Target: lib}).Run(&c)
		if res.Err != nil {
			// Only a frame the ports cannot carry may stop a case.
			if !errors.Is(res.Err, conformance.ErrCase) {
				t.Fatalf("%s: %v", c.Name, res.Err)
			}
			return
		}
		if unchanged && !res.Pass {
			t.Fatalf("%s: unchanged input fails:\n%s", c.Name, res.Diff)
		}
		if res.Pass != (res.Diff == nil) {
			t.Fatalf("%s: pass=%v with diff %v", c.Name, res.Pass, res.Diff)
		}
		if !res.Pass {
			s := res.Diff.String()
			if s == "" || res.Diff.Port == "" || res.Diff.N < 1 {
				t.Fatalf("%s: unreadable diff %+v", c.Name, res.Diff)
			}
			if res.Diff.Want != nil && res.Diff.Got != nil && len(res.Diff.Fields) == 0 {
				t.Fatalf("%s: differing frames with no differing field:\n%s", c.Name, s)
			}
			return
		}
		// A pass means the same number of frames on every port.
		for _, port := range ports {
			if len(c.WantOn(port)) != countOn(res.Got, port) {
				t.Fatalf("%s: passed with %d frames on %s, want %d", c.Name, countOn(res.Got, port), port, len(c.WantOn(port)))
			}
		}
	})
}

func countOn(frames []conformance.Frame, port string) int {
	n := 0
	for _, f := range frames {
		if f.Port == port {
			n++
		}
	}
	return n
}
