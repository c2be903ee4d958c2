package conformance

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one case.
type Result struct {
	Case *Case
	// Pass is true when the device sent exactly the expected frames.
	Pass bool
	// Err is set when the case could not be run to the end (a bad case,
	// a device that refused the setup); Pass is then false.
	Err error
	// Diff is the first differing frame of a failing case.
	Diff *Diff
	// Got is everything the device sent.
	Got []Frame
	// State is the device's state after a failing case, when the target
	// can tell (vif lists, vEth counters).
	State   string
	Elapsed time.Duration
}

// Status returns "PASS", "FAIL" or "ERROR".
func (r *Result) Status() string {
	switch {
	case r.Err != nil:
		return "ERROR"
	case r.Pass:
		return "PASS"
	}
	return "FAIL"
}

// Runner runs cases against a Target.
type Runner struct {
	Target Target
	// Progress, if set, is called after each case with how many are done
	// out of how many.
	Progress func(done, total int, r *Result)
}

// Run runs case c: starts a fresh device, sends the input frames in order
// with the steps between them, and compares what the device sent with the
// expected frames.
func (r *Runner) Run(c *Case) *Result {
	start := time.Now()
	res := &Result{Case: c}
	defer func() { res.Elapsed = time.Since(start) }()
	if err := r.Target.Start(c); err != nil {
		res.Err = err
		return res
	}
	steps := c.Setup.Steps
	next := 0
	doSteps := func(sent int) error {
		for next < len(steps) && steps[next].After == sent {
			if err := r.Target.Step(steps[next]); err != nil {
				return err
			}
			next++
		}
		return nil
	}
	for i, f := range c.In {
		if err := doSteps(i); err != nil {
			res.Err = err
			_, _, _ = r.Target.Finish()
			return res
		}
		if err := r.Target.Send(f); err != nil {
			res.Err = fmt.Errorf("input frame %d: %w", i+1, err)
			_, _, _ = r.Target.Finish()
			return res
		}
	}
	if err := doSteps(len(c.In)); err != nil {
		res.Err = err
		_, _, _ = r.Target.Finish()
		return res
	}
	got, lists, err := r.Target.Finish()
	res.Got = got
	if err != nil {
		res.Err = err
		return res
	}
	res.Diff = Compare(c, got, lists)
	res.Pass = res.Diff == nil
	if !res.Pass {
		res.State = r.Target.Describe()
	}
	return res
}

// RunAll runs every case in order.
func (r *Runner) RunAll(cases []*Case) []*Result {
	out := make([]*Result, 0, len(cases))
	for i, c := range cases {
		res := r.Run(c)
		out = append(out, res)
		if r.Progress != nil {
			r.Progress(i+1, len(cases), res)
		}
	}
	return out
}

// Failed returns the results that did not pass.
func Failed(results []*Result) []*Result {
	var out []*Result
	for _, r := range results {
		if !r.Pass {
			out = append(out, r)
		}
	}
	return out
}

// WriteReport writes a pass/fail table of results and, for each case that
// did not pass, its error or first differing frame as a field-level diff.
func WriteReport(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tRESULT\tTIME\tTITLE")
	pass := 0
	for _, r := range results {
		if r.Pass {
			pass++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Case.Name, r.Status(), r.Elapsed.Round(time.Millisecond), r.Case.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d cases\n", pass, len(results)-pass, len(results))
	for _, r := range results {
		if r.Pass {
			continue
		}
		fmt.Fprintf(w, "\n--- %s %s (%s)\n", r.Status(), r.Case.Name, r.Case.Dir)
		if r.Err != nil {
			fmt.Fprintf(w, "%v\n", r.Err)
			continue
		}
		fmt.Fprint(w, r.Diff.String())
		if r.State != "" {
			fmt.Fprintf(w, "device state:\n%s", indent(r.State))
		}
	}
	return nil
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
