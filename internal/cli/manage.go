package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nivkit/niv/internal/daemon/mgmt"
)

// Default management sockets, as the daemons make them without "niv
// socket" (and no hostname) in their file.
const (
	defaultVISSocket = "/run/niv/vis.sock"
	defaultIVSocket  = "/run/niv/iv.sock"
)

// clientFlags takes --json and --socket PATH (or -s PATH) out of args,
// wherever they are.
func clientFlags(args []string, socket string) (rest []string, path string, asJSON bool, err error) {
	path = socket
	if env := os.Getenv("NIV_SOCKET"); env != "" {
		path = env
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--json" || a == "-json":
			asJSON = true
		case a == "--socket" || a == "-socket" || a == "-s":
			if i+1 >= len(args) {
				return nil, "", false, fmt.Errorf("%s needs a PATH", a)
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--socket="):
			path = strings.TrimPrefix(a, "--socket=")
		default:
			rest = append(rest, a)
		}
	}
	return rest, path, asJSON, nil
}

// call sends req and prints the answer: the NX-OS text, or with asJSON
// the data as JSON. It returns the exit status.
func call(path string, req mgmt.Request, asJSON bool, stdout, stderr io.Writer) int {
	r, err := mgmt.Call(path, req)
	if err != nil {
		fmt.Fprintf(stderr, "niv: %v\n", err)
		return 1
	}
	if !r.OK {
		fmt.Fprintf(stderr, "%s\n", r.Error)
		return 1
	}
	if asJSON {
		if len(r.Data) == 0 {
			r.Data = json.RawMessage("null")
		}
		var v any
		json.Unmarshal(r.Data, &v)
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprint(stdout, r.Text)
	return 0
}

// runShow implements `niv show interface [vethernet N]`, `niv show mac
// address-table`, `niv show port-profile [NAME]`, `niv show vnic [NAME]`,
// `niv show running-config`, `niv show evb [vsi|hosts] [...]`.
func runShow(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	args, path, asJSON, err := clientFlags(args, "")
	if err != nil || len(args) == 0 {
		fmt.Fprintln(stderr, "usage: niv show interface [vethernet N] | mac address-table | port-profile [NAME] | vnic [NAME] | running-config | evb [vsi|hosts [summary|detail] [mac MAC] [interface ETH]]  [--json] [--socket PATH]")
		return 2
	}
	var cmd string
	var rest []string
	switch {
	case args[0] == "interface" || args[0] == "port-profile" || args[0] == "vnic" || args[0] == "running-config":
		cmd, rest = "show "+args[0], args[1:]
	case args[0] == "mac" && len(args) >= 2 && args[1] == "address-table":
		cmd, rest = "show mac address-table", args[2:]
	case args[0] == "evb" && len(args) >= 2 && (args[1] == "vsi" || args[1] == "hosts"):
		cmd, rest = "show evb "+args[1], args[2:]
	case args[0] == "evb":
		cmd, rest = "show evb", args[1:]
	default:
		fmt.Fprintf(stderr, "niv show: unknown %q\n", strings.Join(args, " "))
		return 2
	}
	if path == "" {
		path = defaultVISSocket
		if args[0] == "vnic" {
			path = defaultIVSocket
		}
	}
	return call(path, mgmt.Request{Cmd: cmd, Args: rest}, asJSON, stdout, stderr)
}

// runConfigure implements `niv configure [FILE]`: NX-OS edits from FILE
// or stdin, applied live as one transaction.
func runConfigure(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	args, path, asJSON, err := clientFlags(args, defaultVISSocket)
	if err != nil || len(args) > 1 {
		fmt.Fprintln(stderr, "usage: niv configure [FILE] [--socket PATH]   (edits from FILE, or from stdin)")
		return 2
	}
	var text []byte
	if len(args) == 1 && args[0] != "-" {
		text, err = os.ReadFile(args[0])
	} else {
		text, err = io.ReadAll(io.LimitReader(stdin, mgmt.MaxRequest+1))
	}
	if err != nil {
		fmt.Fprintf(stderr, "niv configure: %v\n", err)
		return 1
	}
	return call(path, mgmt.Request{Cmd: "configure", Input: string(text)}, asJSON, stdout, stderr)
}

// runVNIC implements `niv vnic add|delete|move` on an IV.
func runVNIC(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	args, path, asJSON, err := clientFlags(args, defaultIVSocket)
	usage := func() int {
		fmt.Fprintln(stderr, `usage: niv vnic add NAME --tap TAP [--existing] [--netns NS] --mac MAC --profile NAME --uuid UUID [--fabric a|b] [--epoch N]
       niv vnic delete NAME [--release]
       niv vnic move NAME --to SOCKET [--tap TAP] [--netns NS] [--existing]   (from the IV at --socket)`)
		return 2
	}
	if err != nil || len(args) < 2 {
		return usage()
	}
	verb, name := args[0], args[1]
	fs := flag.NewFlagSet("vnic "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	tap := fs.String("tap", "", "the vNIC's TAP device")
	existing := fs.Bool("existing", false, "open the TAP, do not create it")
	netns := fs.String("netns", "", "network namespace the TAP is in (the VM)")
	mac := fs.String("mac", "", "MAC address")
	prof := fs.String("profile", "", "port-profile name")
	uuid := fs.String("uuid", "", "VM instance UUID")
	fabric := fs.String("fabric", "", "preferred fabric, a or b")
	epoch := fs.Uint("epoch", 0, "placement epoch (default: one above the last here)")
	release := fs.Bool("release", false, "let go of the vNIC, keeping its vEth (it moved)")
	to := fs.String("to", "", "management socket of the IV the vNIC moves to")
	if fs.Parse(args[2:]) != nil || fs.NArg() != 0 {
		return usage()
	}
	switch verb {
	case "add":
		body := vnicBody(*tap, *existing, *netns, *mac, *prof, *uuid, *fabric)
		req := mgmt.Request{Cmd: "vnic add", Args: []string{name}, Input: body}
		if *epoch != 0 {
			req.Args = append(req.Args, "epoch", strconv.FormatUint(uint64(*epoch), 10))
		}
		return call(path, req, asJSON, stdout, stderr)
	case "delete":
		req := mgmt.Request{Cmd: "vnic delete", Args: []string{name}}
		if *release {
			req.Args = append(req.Args, "release")
		}
		return call(path, req, asJSON, stdout, stderr)
	case "move":
		if *to == "" {
			return usage()
		}
		return moveVNIC(name, path, *to, *tap, *netns, *existing, stdout, stderr)
	}
	return usage()
}

func vnicBody(tap string, existing bool, netns, mac, prof, uuid, fabric string) string {
	var b strings.Builder
	if tap != "" {
		b.WriteString("tap " + tap)
		if existing {
			b.WriteString(" existing")
		}
		if netns != "" {
			b.WriteString(" netns " + netns)
		}
		b.WriteByte('\n')
	}
	for _, kv := range [][2]string{{"mac-address", mac}, {"port-profile", prof}, {"instance-uuid", uuid}, {"fabric", fabric}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%s %s\n", kv[0], kv[1])
		}
	}
	return b.String()
}

// vnicInfo is the part of `show vnic --json` a move needs.
type vnicInfo struct {
	Name, TAP, Netns, MAC, Profile, Instance, Fabric, State string
	Existing                                                bool
	Epoch                                                   uint32
	VEth                                                    uint32
}

// moveVNIC migrates vNIC name from the IV at from to the IV at to, as a
// hypervisor does when its VM moves: the vNIC starts on the new host with
// a newer placement epoch (the VIS moves its vEth there, same id,
// configuration and counters), then the old host lets go of it.
func moveVNIC(name, from, to, tap, netns string, existing bool, stdout, stderr io.Writer) int {
	r, err := mgmt.Call(from, mgmt.Request{Cmd: "show vnic", Args: []string{name}})
	if err == nil && !r.OK {
		err = fmt.Errorf("%s", r.Error)
	}
	var infos []vnicInfo
	if err == nil {
		err = json.Unmarshal(r.Data, &infos)
	}
	if err == nil && len(infos) != 1 {
		err = fmt.Errorf("vnic %s: not found on %s", name, from)
	}
	if err != nil {
		fmt.Fprintf(stderr, "niv vnic move: %v\n", err)
		return 1
	}
	n := infos[0]
	if tap == "" {
		tap, netns, existing = n.TAP, n.Netns, n.Existing
	}
	// A TAP takes one reader: when both hosts reach the VM through the same
	// TAP (namespaces on one machine), the old host lets go of it first
	// and the vEth waits, unbound, for the new one.
	sameTAP := tap == n.TAP && netns == n.Netns
	if sameTAP {
		if code := call(from, mgmt.Request{Cmd: "vnic delete", Args: []string{name, "release"}}, false, io.Discard, stderr); code != 0 {
			return code
		}
	}
	body := vnicBody(tap, existing, netns, n.MAC, n.Profile, n.Instance, n.Fabric)
	epoch := strconv.FormatUint(uint64(n.Epoch)+1, 10)
	if code := call(to, mgmt.Request{Cmd: "vnic add", Args: []string{name, "epoch", epoch}, Input: body}, false, stdout, stderr); code != 0 {
		return code
	}
	// Wait until the new host has the vEth, then let the old one go.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := mgmt.Call(to, mgmt.Request{Cmd: "show vnic", Args: []string{name}})
		var now []vnicInfo
		if err == nil && r.OK && json.Unmarshal(r.Data, &now) == nil && len(now) == 1 && now[0].State == "bound" {
			fmt.Fprintf(stdout, "vnic %s moved: Vethernet%d now behind %s\n", name, now[0].VEth, to)
			if sameTAP {
				return 0
			}
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(stderr, "niv vnic move: vnic %s did not bind on %s within 10 s\n", name, to)
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
	return call(from, mgmt.Request{Cmd: "vnic delete", Args: []string{name, "release"}}, false, io.Discard, stderr)
}
