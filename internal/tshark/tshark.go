// Package tshark runs Wireshark's tshark as an independent oracle for
// niv's tests: it decodes a capture file and returns, per frame, the values
// of the fields asked for, exactly as `tshark -T fields` prints them.
package tshark

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Frame maps a field name to its values in the frame, in order of
// appearance; a field absent from the frame has no entry.
type Frame map[string][]string

// Fields runs `tshark -n -r path -T fields` for the given fields and returns
// one Frame per packet, in capture order. Extra arguments (a display
// filter, -o preferences) go before the field list.
func Fields(ctx context.Context, bin, path string, fields []string, extra ...string) ([]Frame, error) {
	args := []string{"-n", "-r", path, "-T", "fields",
		"-E", "header=n", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,",
		"-e", "frame.number"}
	args = append(args, extra...)
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tshark %s: %w: %s", path, err, stderr.String())
	}
	var out []Frame
	for _, line := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != len(fields)+1 {
			return nil, fmt.Errorf("tshark: %d columns, want %d: %q", len(cols), len(fields)+1, line)
		}
		n, err := strconv.Atoi(cols[0])
		if err != nil || n != len(out)+1 {
			return nil, fmt.Errorf("tshark: frame number %q out of order", cols[0])
		}
		fr := Frame{}
		for i, c := range cols[1:] {
			if c != "" {
				fr[fields[i]] = strings.Split(c, ",")
			}
		}
		out = append(out, fr)
	}
	return out, nil
}

// Canonical returns a tshark value in a form that compares equal across
// notations: numbers (decimal or 0x-hex) in decimal, everything else (MAC
// addresses, strings) as it is, lower-cased.
func Canonical(v string) string {
	if n, err := strconv.ParseUint(v, 0, 64); err == nil {
		return strconv.FormatUint(n, 10)
	}
	return strings.ToLower(v)
}
