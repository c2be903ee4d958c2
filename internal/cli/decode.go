package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/nivkit/niv/internal/capture"
	"github.com/nivkit/niv/internal/dissect"
)

// runDecode implements `niv decode [--json] FILE`: one line per frame,
// readable or JSON with Wireshark's field names. A malformed frame gets an
// error on its line and the run goes on; the exit status is 1 only when the
// file cannot be opened or read as a capture, 2 for a usage error.
func runDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "one JSON object per frame: {\"frame\": N, \"fields\": {...}}")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: niv decode [--json] FILE   (FILE may be - for standard input)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "niv decode: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	r, _, err := capture.Open(in)
	if err != nil {
		fmt.Fprintf(stderr, "niv decode: %s: %v\n", name, err)
		return 1
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()

	var (
		fr   dissect.Frame
		line []byte
	)
	for n := 1; ; n++ {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return 0
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "niv decode: %s: frame %d: %v\n", name, n, err)
			return 1
		}
		if lt := linkType(r, ci.InterfaceIndex); lt != layers.LinkTypeEthernet {
			fr = dissect.Frame{Err: fmt.Errorf("link type %v is not Ethernet", lt)}
		} else {
			dissect.Dissect(data, &fr)
		}
		if *asJSON {
			line = fr.AppendJSON(line[:0], n)
		} else {
			line = fr.AppendText(line[:0], n, ci.Length)
		}
		if _, err := out.Write(line); err != nil {
			fmt.Fprintf(stderr, "niv decode: %v\n", err)
			return 1
		}
	}
}

// linkType returns the link type of the interface a packet was captured on:
// pcapng files may mix interfaces.
func linkType(r capture.Reader, iface int) layers.LinkType {
	if ng, ok := r.(*pcapgo.NgReader); ok {
		if intf, err := ng.Interface(iface); err == nil {
			return intf.LinkType
		}
	}
	return r.LinkType()
}
