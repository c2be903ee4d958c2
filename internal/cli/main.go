// Package cli is the niv command line: cmd/niv, and etcdstore/cmd/niv
// (the same program with the etcd store registered), are its Run.
//
//	niv decode [--json] FILE    decode the VNTag, E-Tag and VLAN headers of a capture
//
// Run `niv help` for the list of commands.
package cli

import (
	"fmt"
	"io"
)

// Run executes the command line args (without the program name) and
// returns the exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(args, stdin, stdout, stderr)
}

// command is one subcommand of niv.
type command struct {
	name, usage, summary string
	run                  func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"decode", "niv decode [--json] FILE", "decode a pcap or pcapng capture (FILE, or - for stdin) with Wireshark's field names", runDecode},
		{"conform", "niv conform [--dut MAP] DIR...", "run conformance cases on niv's cores or against a device under test", runConform},
		{"bench", "niv bench [--time D] [--rounds N]", "measure two VMs joined by a Linux bridge, a TAP copy loop and the niv pair (root)", runBench},
		{"vis", "niv vis --config FILE", "run the VIS daemon (or, with --port and --control, the conformance device)", runVIS},
		{"iv", "niv iv --config FILE", "run the IV daemon of a host: uplinks to the VIS, vNICs as TAPs", runIV},
		{"show", "niv show WHAT [--json]", "ask a daemon: interface [vethernet N], mac address-table, port-profile [NAME], vnic, running-config, evb [vsi|hosts]", runShow},
		{"configure", "niv configure [FILE]", "apply NX-OS edits (FILE or stdin) to the VIS live, as one transaction", runConfigure},
		{"vnic", "niv vnic add|delete|move NAME", "power a VM's vNIC on, off, or migrate it to another IV", runVNIC},
	}
}

// run executes the command line args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "niv: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: niv COMMAND [ARGS]")
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-28s %s\n", c.usage, c.summary)
	}
}
