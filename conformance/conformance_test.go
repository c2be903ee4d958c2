package conformance_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
	"github.com/nivkit/niv/internal/needs"
	"github.com/nivkit/niv/internal/tshark"
)

func loadAll(t testing.TB) []*conformance.Case {
	t.Helper()
	cs, err := conformance.LoadAll("testdata")
	require.NoError(t, err)
	return cs
}

// TestCasesPassOnCores runs every case against niv's cores on in-memory
// ports.
func TestCasesPassOnCores(t *testing.T) {
	cs := loadAll(t)
	require.GreaterOrEqual(t, len(cs), 40, "the suite has at least 40 cases")
	lib := &cores.Target{}
	defer lib.Close()
	r := conformance.Runner{Target: lib}
	for _, c := range cs {
		t.Run(c.Name, func(t *testing.T) {
			res := r.Run(c)
			require.NoError(t, res.Err)
			if !res.Pass {
				t.Fatalf("%s\ndevice state:\n%s", res.Diff, res.State)
			}
		})
	}
}

// TestExpectedAgreesWithTshark checks every case's want.pcapng against the
// expectations stated in its README.md, through tshark's decode: the ports
// (pcapng interface names), the number and order of frames per port, and
// every stated field. Each expected frame must state its NIV tag (all of
// its fields, or notag) and its VLAN tags (vlan.id or novlan).
func TestExpectedAgreesWithTshark(t *testing.T) {
	bin := needs.Tool(t, "tshark")
	cs := loadAll(t)
	vntagFields := []string{"vntag.dir", "vntag.ptr", "vntag.dst", "vntag.looped", "vntag.version", "vntag.src"}
	etagFields := []string{"etag.pcp", "etag.dei", "etag.iecid_base", "etag.group", "etag.ecid_base", "etag.iecid_ext", "etag.ecid_ext"}
	var checked atomic.Int64
	t.Cleanup(func() { t.Logf("tshark agreed on %d expected frames of %d cases", checked.Load(), len(cs)) })
	for _, c := range cs {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			fields := []string{"frame.interface_name", "vlan.id"}
			fields = append(fields, vntagFields...)
			fields = append(fields, etagFields...)
			for _, e := range c.Expect.Frames {
				for _, f := range e.Fields {
					if !slices.Contains(fields, f.Name) {
						fields = append(fields, f.Name)
					}
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			frames, err := tshark.Fields(ctx, bin, filepath.Join(c.Dir, "want.pcapng"), fields)
			require.NoError(t, err)
			require.Len(t, frames, len(c.Want), "tshark sees every frame of want.pcapng")
			require.Len(t, c.Expect.Frames, len(c.Want), "README.md states every expected frame")

			// The N-th frame of port P in want.pcapng, by tshark's
			// interface names.
			byPort := map[string][]tshark.Frame{}
			for _, fr := range frames {
				names := fr["frame.interface_name"]
				require.Len(t, names, 1)
				byPort[names[0]] = append(byPort[names[0]], fr)
			}
			stated := map[string]int{}
			for _, e := range c.Expect.Frames {
				stated[e.Port]++
				require.Equal(t, stated[e.Port], e.N, "%s: frames of a port are numbered in order", e.Line)
				require.LessOrEqual(t, e.N, len(byPort[e.Port]), "%s: want.pcapng has no such frame", e.Line)
				fr := byPort[e.Port][e.N-1]
				for _, f := range e.Fields {
					got := fr[f.Name]
					want := strings.Split(f.Value, ",")
					require.Len(t, got, len(want), "%s: %s: tshark shows %v", e.Line, f.Name, got)
					for i := range want {
						assert.Equal(t, tshark.Canonical(want[i]), tshark.Canonical(got[i]), "%s: %s", e.Line, f.Name)
					}
				}
				_, hasVNTag := fr["vntag.dir"]
				_, hasETag := fr["etag.group"]
				switch {
				case e.NoTag:
					assert.False(t, hasVNTag || hasETag, "%s: tshark shows a NIV tag", e.Line)
				case hasVNTag:
					assertStates(t, e, vntagFields)
				case hasETag:
					assertStates(t, e, etagFields)
				default:
					t.Errorf("%s: states no tag (notag) and tshark shows none", e.Line)
				}
				if e.NoVLAN {
					assert.Empty(t, fr["vlan.id"], "%s: tshark shows a VLAN tag", e.Line)
				} else if _, ok := fr["vlan.id"]; ok {
					assertStates(t, e, []string{"vlan.id"})
				}
				checked.Add(1)
			}
			for p, frs := range byPort {
				assert.Equal(t, len(frs), stated[p], "port %s: want.pcapng and README.md disagree on the number of frames", p)
			}
			for _, p := range c.Expect.None {
				assert.Empty(t, byPort[p], "port %s is stated to send nothing", p)
				assert.Zero(t, stated[p], "port %s: both none and frames", p)
			}
			for _, p := range c.Ports() {
				assert.True(t, stated[p] > 0 || slices.Contains(c.Expect.None, p), "port %s: README.md states neither frames nor none", p)
			}
		})
	}
}

func assertStates(t *testing.T, e conformance.ExpectedFrame, names []string) {
	t.Helper()
	for _, n := range names {
		ok := slices.ContainsFunc(e.Fields, func(f conformance.FieldValue) bool { return f.Name == n })
		assert.True(t, ok, "%s: does not state %s", e.Line, n)
	}
}

// TestBehaviourOff switches each behaviour of the VIS off in turn and
// checks that exactly the cases that name it in their Behaviours line fail,
// each with a readable field-level diff.
func TestBehaviourOff(t *testing.T) {
	cs := loadAll(t)
	for _, b := range cores.Behaviours {
		t.Run(string(b), func(t *testing.T) {
			lib := &cores.Target{Off: []cores.Behaviour{b}}
			defer lib.Close()
			results := (&conformance.Runner{Target: lib}).RunAll(cs)
			var failed, named []string
			for _, r := range results {
				require.NoError(t, r.Err, r.Case.Name)
				if !r.Pass {
					failed = append(failed, r.Case.Name)
					diff := r.Diff.String()
					assert.Contains(t, diff, "port ", r.Case.Name)
					assert.Contains(t, diff, "want ", r.Case.Name)
					switch b {
					case cores.SourcePruning:
						// The diff names the fields that carry pruning.
						if !strings.Contains(diff, "vntag.looped:") && !strings.Contains(diff, "etag.iecid_base:") {
							t.Errorf("%s: diff does not name the pruning field:\n%s", r.Case.Name, diff)
						}
					case cores.Hairpin:
						assert.Contains(t, diff, "missing", r.Case.Name)
					}
				}
				if slices.Contains(r.Case.Behaviours, string(b)) && r.Case.Setup.Device == conformance.DeviceVIS {
					named = append(named, r.Case.Name)
				}
			}
			require.NotEmpty(t, named)
			assert.Equal(t, named, failed, "the failing cases are exactly those that name %s", b)
			if len(failed) > 0 {
				var sb strings.Builder
				require.NoError(t, conformance.WriteReport(&sb, conformance.Failed(results)[:1]))
				t.Logf("first failure with %s off:\n%s", b, sb.String())
			}
		})
	}
}

// TestSourcePruningTagged checks the Behaviours lines against the
// expectations: a VIS case names source-pruning exactly when one of its
// expected frames is looped (VNTag l=1, or an E-Tag Ingress_E-CID).
func TestSourcePruningTagged(t *testing.T) {
	for _, c := range loadAll(t) {
		if c.Setup.Device != conformance.DeviceVIS {
			continue
		}
		looped := false
		for _, e := range c.Expect.Frames {
			for _, f := range e.Fields {
				if (f.Name == "vntag.looped" && f.Value == "1") || (f.Name == "etag.iecid_base" && f.Value != "0") {
					looped = true
				}
			}
		}
		assert.Equal(t, looped, slices.Contains(c.Behaviours, "source-pruning"), "%s", c.Name)
	}
}

// TestCoverage checks that the suite covers every area the conformance
// issue lists, by the Behaviours lines.
func TestCoverage(t *testing.T) {
	have := map[string]int{}
	for _, c := range loadAll(t) {
		for _, b := range c.Behaviours {
			have[b]++
		}
	}
	for _, b := range []string{"vntag", "etag", "upstream", "downstream", "hairpin", "flooding", "source-pruning",
		"multicast", "learning", "aging", "vlan", "access", "trunk", "native", "acl", "qos", "policing",
		"port-security", "spoofing", "tag-injection", "malformed", "runt", "stacked", "profile-edit", "admin-down",
		"link-local", "group-source", "nested-tag", "priority", "failover", "evb", "anti-spoof", "vdp", "ecp",
		"migration", "keepalive"} {
		assert.Positive(t, have[b], "no case covers %s", b)
	}
	t.Log(fmt.Sprint(have))
}
