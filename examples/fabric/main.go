// Command fabric runs niv's daemons as a small data centre on one Linux
// machine: two switches (`niv vis`, fabric A and fabric B), two hypervisor
// hosts (`niv iv`, each in its own network namespace, with an uplink to
// each fabric) and four VMs (namespaces behind TAP vNICs). It pings and
// talks TCP within a host and across hosts, migrates a VM from host 1 to
// host 2 while a ping runs and shows that its vEth keeps its id, profile
// and counters behind the other host, then takes fabric A's links down and
// shows the hosts fail over to fabric B. It prints what happens as it
// happens and removes everything it made.
//
//	sudo go run ./examples/fabric
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// A closed stdout (| head) or ^C must not skip the clean-up: with
	// SIGPIPE caught, writes just fail; ^C stops the run, which removes
	// what it made.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fabric:", err)
		os.Exit(1)
	}
}
