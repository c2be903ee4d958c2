package conformance_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nivkit/niv/conformance"
)

// The cases under testdata/ are written by TestGenerate from the table in
// cases_test.go: go test ./conformance -run TestGenerate -update.
// Without -update, TestGenerate checks that the files on disk are what the
// table says, so that the table stays the one place cases are edited.
//
// The expected frames are built from the field values each case states,
// with the spec's rules (../shared/spec/vntag.md, DESIGN.md "How a frame
// travels"), never by running niv; TestExpectedAgreesWithTshark then checks
// want.pcapng against those stated values with tshark.
var update = flag.Bool("update", false, "rewrite testdata/ from the case table")

// genCase is one case of the table.
type genCase struct {
	name, title, desc string
	behaviours        []string
	setup             string
	profile           string
	files             map[string]string
	in                []gf
	want              []gf
	// none lists ports that must send nothing; every port of the setup
	// with no expected frame is listed automatically.
}

// gf is a frame on a port.
type gf struct {
	port string
	f    *fb
}

func on(port string, f *fb) gf { return gf{port, f} }

// captureStart is the timestamp of the first frame of every capture.
var captureStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// render returns the case's files.
func (c *genCase) render() (map[string][]byte, error) {
	setup, err := conformance.ParseSetup(c.setup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	var ports []string
	for _, p := range setup.Ports {
		ports = append(ports, p.Name)
	}
	files := map[string][]byte{"setup.txt": []byte(strings.TrimLeft(c.setup, "\n"))}
	if c.profile != "" {
		files["profile.conf"] = []byte(strings.TrimLeft(c.profile, "\n"))
	}
	for k, v := range c.files {
		files[k] = []byte(strings.TrimLeft(v, "\n"))
	}
	capture := func(frames []gf) ([]byte, error) {
		var out []conformance.Frame
		for _, f := range frames {
			out = append(out, conformance.Frame{Port: f.port, Data: f.f.bytes()})
		}
		var b bytes.Buffer
		err := conformance.WriteCapture(&b, ports, out, captureStart)
		return b.Bytes(), err
	}
	if files["in.pcapng"], err = capture(c.in); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	if files["want.pcapng"], err = capture(c.want); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	files["README.md"] = []byte(c.readme(setup, ports))
	return files, nil
}

func (c *genCase) readme(setup *conformance.Setup, ports []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", c.title, wrap(c.desc))
	fmt.Fprintf(&b, "Behaviours: %s\n\n", strings.Join(c.behaviours, ", "))
	fmt.Fprintf(&b, "Device: %s. Setup in setup.txt", setup.Device)
	if c.profile != "" {
		b.WriteString(", port-profiles in profile.conf")
	}
	b.WriteString(".\n\n## Input (in.pcapng, in send order)\n\n")
	steps := setup.Steps
	for i, f := range c.in {
		for len(steps) > 0 && steps[0].After == i {
			fmt.Fprintf(&b, "- step: %s\n", steps[0].Line)
			steps = steps[1:]
		}
		fmt.Fprintf(&b, "%d. on %s: %s\n", i+1, f.port, f.f.describe())
	}
	for _, st := range steps {
		fmt.Fprintf(&b, "- step: %s\n", st.Line)
	}
	b.WriteString("\n## Expected output (want.pcapng)\n\n")
	b.WriteString("Written from the VNTag/E-Tag field rules of ../shared/spec/vntag.md and the\n" +
		"forwarding rules of DESIGN.md, not from niv's output; TestExpectedAgreesWithTshark\n" +
		"checks every frame of want.pcapng against the fields below with tshark. A vif\n" +
		"list id names the list of the same id in setup.txt; a VIS is compared by the\n" +
		"list's members, not by the id it allocates.\n")
	for _, f := range c.want {
		if f.f.ecp != nil && f.f.ecp.subtype == 1 {
			b.WriteString("ECP frames follow 802.1Qbg ECP and VDP (../shared/spec/vdp-ecp.md §2–3), encoded by\n" +
				"the generator's own encoder (TestVDPEncoder checks it against §8's byte examples).\n" +
				"tshark's vdp21 dissector is checked where it is right (§6): TLV types and lengths,\n" +
				"Manager ID, status bits, VSI type and version, VSIID and filter formats. It\n" +
				"mis-decodes the filter entries (it reads the entry count as part of the MAC), so\n" +
				"the entries are stated below, as the standard reads them, and compared byte for\n" +
				"byte. The VDP frames of want.pcapng:\n\n")
			break
		}
		if f.f.ecp != nil {
			b.WriteString("ECP frames follow 802.1Qbg ECP (../shared/spec/vdp-ecp.md §1–2) and their vic\n" +
				"messages the byte tables of vic/PROTOCOL.md, encoded by the generator's own\n" +
				"encoder (TestVICEncoder checks it against PROTOCOL.md's examples); tshark shows\n" +
				"the ULPDU, padding included, as data.data.\n")
			break
		}
	}
	vdpCount := map[string]int{}
	for _, f := range c.want {
		vdpCount[f.port]++
		if f.f.vdp != nil {
			fmt.Fprintf(&b, "- %s %d: %s\n", f.port, vdpCount[f.port], vdpDescribe(f.f.vdp))
		}
	}
	b.WriteString("\n```expect\n")
	count := map[string]int{}
	for _, f := range c.want {
		count[f.port]++
		fmt.Fprintln(&b, f.f.expect(f.port, count[f.port]))
	}
	for _, p := range ports {
		if count[p] == 0 {
			fmt.Fprintf(&b, "%s: none\n", p)
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// wrap folds text at about 80 columns.
func wrap(s string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		if n > 0 && n+1+len(w) > 80 {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// TestGenerate writes the cases with -update, and otherwise checks that
// testdata/ holds exactly what the table says.
func TestGenerate(t *testing.T) {
	root := "testdata"
	names := map[string]bool{}
	for _, c := range cases() {
		if names[c.name] {
			t.Fatalf("case %s twice", c.name)
		}
		names[c.name] = true
		files, err := c.render()
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, c.name)
		if *update {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		for name, data := range files {
			disk, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s: %v (run go test ./conformance -run TestGenerate -update)", c.name, err)
				continue
			}
			if !bytes.Equal(disk, data) {
				t.Errorf("%s/%s differs from the case table (run go test ./conformance -run TestGenerate -update)", c.name, name)
			}
		}
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !names[e.Name()] {
			t.Errorf("testdata/%s is not in the case table", e.Name())
		}
	}
}
