package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/conformance/cores"
)

// runConform implements `niv conform [--dut MAP] DIR...`: it runs the
// conformance cases under each DIR (a case folder or a folder of cases) on
// niv's cores, or against a device under test over real interfaces, prints
// a pass/fail table and, for each failing case, its first differing frame
// as a field-level diff. Exit status: 0 when every case passes, 1 when any
// fails or cannot run, 2 for a usage error.
func runConform(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dut := fs.String("dut", "", "run against a device under test: `PORT=IF,...` maps each case port to the local interface that reaches it")
	control := fs.String("dut-control", "", "unix `SOCKET` of the device's control channel (niv vis --control), which sets each case up")
	settle := fs.Duration("settle", 30*time.Millisecond, "DUT: how long the link must stay quiet after each frame")
	timeout := fs.Duration("timeout", 2*time.Second, "DUT: the longest wait after one frame")
	off := fs.String("off", "", "library: switch `BEHAVIOURS` of the cores off (comma-separated: source-pruning, hairpin)")
	quiet := fs.Bool("q", false, "no progress lines")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: niv conform [--dut PORT=IF,... [--dut-control SOCKET]] [--off BEHAVIOURS] DIR...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var cases []*conformance.Case
	for _, dir := range fs.Args() {
		cs, err := conformance.LoadAll(dir)
		if err != nil {
			fmt.Fprintf(stderr, "niv conform: %v\n", err)
			return 1
		}
		cases = append(cases, cs...)
	}

	var target conformance.Target
	switch {
	case *dut != "":
		m, err := parseMap(*dut)
		if err != nil {
			fmt.Fprintf(stderr, "niv conform: --dut: %v\n", err)
			return 2
		}
		if *off != "" {
			fmt.Fprintln(stderr, "niv conform: --off applies to niv's own cores, not to a device under test")
			return 2
		}
		d := &conformance.DUT{Map: m, Control: *control, Settle: *settle, Timeout: *timeout}
		defer d.Close()
		target = d
	default:
		lib := &cores.Target{}
		for _, b := range strings.Split(*off, ",") {
			if b = strings.TrimSpace(b); b != "" {
				lib.Off = append(lib.Off, cores.Behaviour(b))
			}
		}
		defer lib.Close()
		target = lib
	}

	r := conformance.Runner{Target: target}
	if !*quiet {
		r.Progress = func(done, total int, res *conformance.Result) {
			fmt.Fprintf(stderr, "[%d/%d] %-4s %s (%s)\n", done, total, res.Status(), res.Case.Name, res.Elapsed.Round(time.Millisecond))
		}
	}
	results := r.RunAll(cases)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if err := conformance.WriteReport(out, results); err != nil {
		fmt.Fprintf(stderr, "niv conform: %v\n", err)
		return 1
	}
	if len(conformance.Failed(results)) > 0 {
		return 1
	}
	return 0
}

// parseMap reads "a=x,b=y" into a map.
func parseMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not PORT=IF", kv)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("port %s mapped twice", k)
		}
		m[k] = v
	}
	return m, nil
}
