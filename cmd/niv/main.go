// Command niv is the command line of the niv module.
//
//	niv decode [--json] FILE    decode the VNTag, E-Tag and VLAN headers of a capture
//
// Run `niv help` for the list of commands. The same program with the
// shared etcd store (niv vis --store etcd://...) is
// github.com/nivkit/niv/etcdstore/cmd/niv.
package main

import (
	"os"

	"github.com/nivkit/niv/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
