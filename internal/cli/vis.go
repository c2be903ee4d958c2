package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/nivkit/niv/conformance"
	"github.com/nivkit/niv/internal/dutd"
)

// runVIS implements `niv vis --port PORT=IF,... (--case DIR | --control
// SOCKET)`: niv's VIS core (or IV core, for an IV case) on real
// interfaces, through AF_PACKET sockets. With --case it runs the device
// that case folder's setup.txt and profiles describe until it is stopped;
// with --control it is a device under test for `niv conform --dut`, set up
// anew for each case through the control socket. It stops on SIGINT or
// SIGTERM.
func runVIS(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if hasConfig(args) {
		return runDaemon("vis", args, stderr)
	}
	fs := flag.NewFlagSet("vis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ports := fs.String("port", "", "`PORT=IF,...`: the interface that carries each port of the setup")
	control := fs.String("control", "", "serve the conformance control protocol on unix `SOCKET`")
	caseDir := fs.String("case", "", "run the device of the case folder `DIR` (setup.txt, *.conf)")
	verbose := fs.Bool("v", false, "log each case and step")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: niv vis --port PORT=IF,... (--case DIR | --control SOCKET)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	m, err := parseMap(*ports)
	if fs.NArg() != 0 || err != nil || (*control == "") == (*caseDir == "") {
		if err != nil {
			fmt.Fprintf(stderr, "niv vis: --port: %v\n", err)
		}
		fs.Usage()
		return 2
	}
	logger := log.New(stderr, "niv vis: ", log.LstdFlags|log.Lmicroseconds)
	d := &dutd.Daemon{Ifaces: m}
	if *verbose {
		d.Logf = logger.Printf
	}
	defer d.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *caseDir != "" {
		c, err := conformance.Load(*caseDir)
		if err != nil {
			fmt.Fprintf(stderr, "niv vis: %v\n", err)
			return 1
		}
		if err := d.Start(c.Name, c.Setup, c.Files); err != nil {
			fmt.Fprintf(stderr, "niv vis: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "niv vis: running %s's %s on %s\n", c.Name, c.Setup.Device, *ports)
		<-ctx.Done()
		return 0
	}
	_ = os.Remove(*control)
	ln, err := net.Listen("unix", *control)
	if err != nil {
		fmt.Fprintf(stderr, "niv vis: %v\n", err)
		return 1
	}
	defer os.Remove(*control)
	logger.Printf("control on %s, ports %s", *control, *ports)
	if err := dutd.ServeControl(ctx, ln, d); err != nil {
		fmt.Fprintf(stderr, "niv vis: %v\n", err)
		return 1
	}
	return 0
}
