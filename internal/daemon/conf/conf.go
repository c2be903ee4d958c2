// Package conf reads the configuration files of the niv daemons, `niv vis
// --config FILE` and `niv iv --config FILE`, written in NX-OS
// running-config style: non-indented lines open blocks (interface
// ethernet1/1, port-profile web, vnic web1), indented lines configure
// them, '!' starts a comment. A VIS file holds the switch's physical
// interfaces, its port-profiles (the language of package profile, which
// parses those blocks itself, with the file's own line numbers) and the
// vEths as NX-OS shows them; an IV file holds the host's uplinks to fabric
// A and B and its vNICs.
//
// A file is checked whole: every wrong line is reported, with its line and
// column (Error, in the style of profile.ParseError), and a file with any
// error yields no configuration, so a daemon keeps running on the one it
// has.
package conf

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nivkit/niv/internal/daemon/state"
	"github.com/nivkit/niv/profile"
)

var (
	errUnknown = profile.ErrUnknownCommand
	errSyntax  = profile.ErrSyntax
	errRange   = profile.ErrValueRange
	errUndef   = profile.ErrUndefined
	errDup     = profile.ErrDuplicate
)

// Kind is what a VIS physical interface is.
type Kind uint8

const (
	// KindVNTag is an Adapter-FEX port to a VNTag IV ("switchport mode
	// vntag", as NX-OS spells it).
	KindVNTag Kind = iota + 1
	// KindETag is a port to an IEEE 802.1BR port extender (E-Tag).
	KindETag
	// KindEVB is an IEEE 802.1Qbg EVB port to VDP stations.
	KindEVB
	// KindTrunk is a plain 802.1Q trunk uplink to the rest of the network.
	KindTrunk
)

var kindNames = map[string]Kind{"vntag": KindVNTag, "etag": KindETag, "evb": KindEVB, "trunk": KindTrunk}

func (k Kind) String() string {
	for n, v := range kindNames {
		if v == k {
			return n
		}
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Control is the control plane that runs on a port.
type Control uint8

const (
	// ControlNone: no control plane (trunk uplinks).
	ControlNone Control = iota
	// ControlVIC: niv's VIF negotiation (package vic), for VNTag and E-Tag
	// IVs.
	ControlVIC
	// ControlVDP: IEEE 802.1Qbg VDP, for EVB ports: LLDP with the EVB
	// TLV, ECP, and VDP's bridge machine.
	ControlVDP
)

func (c Control) String() string {
	return [...]string{"none", "vic", "vdp"}[c]
}

// Daemon is what both daemons' files may set with "niv ..." and
// "hostname" lines.
type Daemon struct {
	Hostname string
	// Store is where the daemon keeps its state, "niv store PATH" (a
	// local bbolt file) or "niv store SCHEME://..." for a store registered
	// with package state.
	Store string
	// Socket is the management socket, "niv socket PATH".
	Socket string
	// Metrics is the Prometheus listen address, "niv metrics ADDR"; "" for
	// none.
	Metrics string
	// Checkpoint is how often counters are written to the store, "niv
	// checkpoint-interval SECONDS" (default 5 s).
	Checkpoint time.Duration
	// Keepalive, RequestTimeout, ResyncHold and Retention are the vic
	// timers ("niv vic keepalive MS", "niv vic request-timeout MS", "niv
	// vic resync-hold MS", "niv vic retention S"); 0 for vic's default.
	Keepalive, RequestTimeout, ResyncHold, Retention time.Duration
}

// Paths fills in the store and socket the file left out,
// /var/lib/niv/NAME.db and /run/niv/NAME.sock, and returns NAME: the
// hostname, or role when the file names none.
func (d *Daemon) Paths(role string) string {
	name := d.Hostname
	if name == "" {
		name = role
	}
	if d.Store == "" {
		d.Store = filepath.Join("/var/lib/niv", name+".db")
	}
	if d.Socket == "" {
		d.Socket = filepath.Join("/run/niv", name+".sock")
	}
	return name
}

// MakeDirs makes the socket's directory and, for a store that is a file
// (not SCHEME://...), the store's, with mode 0700.
func (d *Daemon) MakeDirs() error {
	dirs := []string{filepath.Dir(d.Socket)}
	if !strings.Contains(d.Store, "://") {
		dirs = append(dirs, filepath.Dir(d.Store))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// DefaultCheckpoint is the counter checkpoint interval unless the file sets
// one.
const DefaultCheckpoint = 5 * time.Second

// Port is a VIS physical interface.
type Port struct {
	// Name is the NX-OS name, "Ethernet1/1".
	Name    string
	Kind    Kind
	Control Control
	Linux   string // the Linux interface that carries it
	// XDPTx is "linux-interface IFNAME transmit af-xdp": the port writes
	// its frames through an AF_XDP socket (port.PacketConfig.XDPTx).
	XDPTx       bool
	Description string
	// PVID is an evb port's port VLAN ID, "switchport trunk native vlan
	// N" (IEEE 802.1Q 6.9): a VSI in this VLAN sends and receives its
	// frames untagged, as a VM on a Linux macvlan or macvtap without a
	// VLAN device does. 0: none.
	PVID uint16
	Line int
}

// EVB is the VIS's EVB configuration, the exponents its EVB TLV
// advertises (802.1Qbg D.2.13, 10 µs × 2^E each; NX-OS "evb
// resource-wait-delay E", "evb keep-alive E"). A port uses the larger of
// its own and the station's.
type EVB struct {
	// RWD is the resource wait delay exponent (default 20: 10.5 s).
	RWD uint8
	// RKA is the keep-alive exponent (default 20: 10.5 s).
	RKA uint8
}

// DefaultEVB is the EVB configuration a file that sets none gets (lldpad's
// defaults).
var DefaultEVB = EVB{RWD: 20, RKA: 20}

// VEth is an "interface vethernet N" block: a vEth as NX-OS shows it.
type VEth struct {
	ID          uint32
	Profile     string // inherit port-profile NAME
	Port        string // bind interface NAME channel N
	Channel     uint16
	Description string
	Line        int
}

// VIS is the configuration of `niv vis`.
type VIS struct {
	Daemon
	EVB   EVB
	Ports []Port
	VEths []VEth
	// Profiles holds the port-profiles, access lists and policy-maps.
	Profiles *profile.Config
}

// Port returns the port named name (any capitalisation, "eth" for
// "ethernet").
func (c *VIS) Port(name string) (Port, bool) {
	n, ok := ethernetName(name)
	if !ok {
		return Port{}, false
	}
	for _, p := range c.Ports {
		if p.Name == n {
			return p, true
		}
	}
	return Port{}, false
}

// parser collects the errors of one file.
type parser struct {
	errs Errors
}

func (p *parser) errf(l line, tok int, sentinel error, format string, a ...any) {
	col := 1
	if tok < len(l.toks) {
		col = l.toks[tok].col
	} else if len(l.toks) > 0 {
		last := l.toks[len(l.toks)-1]
		col = last.col + len(last.s)
	}
	p.errs = append(p.errs, &Error{Line: l.num, Column: col, Msg: fmt.Sprintf(format, a...), Err: sentinel})
}

func (p *parser) unknown(l line, tok int, choices []string) {
	e := &Error{Line: l.num, Column: l.toks[tok].col, Err: errUnknown,
		Msg: fmt.Sprintf("%q is not a command here", l.rest(tok))}
	e.Suggestion = suggest(l.toks[tok].s, choices)
	p.errs = append(p.errs, e)
}

// args checks that l has exactly n words.
func (p *parser) args(l line, n int, usage string) bool {
	if len(l.toks) != n {
		tok := min(len(l.toks), n)
		p.errf(l, tok, errSyntax, "expected %q", usage)
		return false
	}
	return true
}

// daemon reads a top-level "hostname" or "niv ..." line; false if l is
// not one.
func (p *parser) daemon(d *Daemon, l line) bool {
	w := l.words()
	switch w[0] {
	case "hostname":
		if p.args(l, 2, "hostname NAME") {
			d.Hostname = w[1]
		}
		return true
	case "niv":
	default:
		return false
	}
	if len(w) < 2 {
		p.errf(l, 1, errSyntax, "expected niv store|socket|metrics|checkpoint-interval|vic")
		return true
	}
	switch w[1] {
	case "store":
		if p.args(l, 3, "niv store PATH") {
			if scheme, _, ok := strings.Cut(w[2], "://"); ok && !slices.Contains(state.Schemes(), scheme) {
				p.errf(l, 2, ErrUnsupported, "store %s: no %s:// store in this build (known: %s)", w[2], scheme, strings.Join(state.Schemes(), ", "))
			}
			d.Store = w[2]
		}
	case "socket":
		if p.args(l, 3, "niv socket PATH") {
			d.Socket = w[2]
		}
	case "metrics":
		if p.args(l, 3, "niv metrics ADDR:PORT") {
			if _, _, err := net.SplitHostPort(w[2]); err != nil {
				p.errf(l, 2, errSyntax, "metrics address %q: %v", w[2], err)
			}
			d.Metrics = w[2]
		}
	case "checkpoint-interval":
		if p.args(l, 3, "niv checkpoint-interval SECONDS") {
			if n, ok := p.number(l, 2, 1, 3600); ok {
				d.Checkpoint = time.Duration(n) * time.Second
			}
		}
	case "vic":
		if !p.args(l, 4, "niv vic keepalive|request-timeout|resync-hold MS | niv vic retention SECONDS") {
			return true
		}
		unit, limit := time.Millisecond, uint64(600000)
		var dst *time.Duration
		switch w[2] {
		case "keepalive":
			dst, limit = &d.Keepalive, 65535
		case "request-timeout":
			dst = &d.RequestTimeout
		case "resync-hold":
			dst = &d.ResyncHold
		case "retention":
			dst, unit, limit = &d.Retention, time.Second, 86400*30
		default:
			p.unknown(l, 2, []string{"keepalive", "request-timeout", "resync-hold", "retention"})
			return true
		}
		if n, ok := p.number(l, 3, 1, limit); ok {
			*dst = time.Duration(n) * unit
		}
	default:
		p.unknown(l, 1, []string{"store", "socket", "metrics", "checkpoint-interval", "vic"})
	}
	return true
}

func (p *parser) number(l line, tok int, lo, hi uint64) (uint64, bool) {
	n, err := strconv.ParseUint(l.toks[tok].s, 10, 64)
	if err != nil {
		p.errf(l, tok, errSyntax, "%q is not a number", l.toks[tok].s)
		return 0, false
	}
	if n < lo || n > hi {
		p.errf(l, tok, errRange, "%d is out of range %d-%d", n, lo, hi)
		return 0, false
	}
	return n, true
}

// EthernetName normalises an ethernet interface name as NX-OS writes it
// ("eth1/1", "ethernet1/1" → "Ethernet1/1").
func EthernetName(s string) (string, bool) { return ethernetName(s) }

// ethernetName normalises "ethernet1/1", "Ethernet1/1", "eth1/1" to
// "Ethernet1/1" (slot/port, each 1-255).
func ethernetName(s string) (string, bool) {
	low := strings.ToLower(s)
	var rest string
	switch {
	case strings.HasPrefix(low, "ethernet"):
		rest = low[len("ethernet"):]
	case strings.HasPrefix(low, "eth"):
		rest = low[len("eth"):]
	default:
		return "", false
	}
	slot, port, ok := strings.Cut(rest, "/")
	a, err1 := strconv.ParseUint(slot, 10, 8)
	b, err2 := strconv.ParseUint(port, 10, 8)
	if !ok || err1 != nil || err2 != nil || a == 0 || b == 0 {
		return "", false
	}
	return fmt.Sprintf("Ethernet%d/%d", a, b), true
}

// ParseMAC reads a MAC address as NX-OS writes it (0252.5400.0001) or with
// colons or dashes.
func ParseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	if len(s) == 14 && s[4] == '.' && s[9] == '.' {
		b, err := hex.DecodeString(s[0:4] + s[5:9] + s[10:14])
		if err != nil {
			return m, false
		}
		copy(m[:], b)
		return m, true
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return m, false
	}
	copy(m[:], hw)
	return m, true
}

// FormatMAC writes m as NX-OS does: 0252.5400.0001.
func FormatMAC(m [6]byte) string {
	h := hex.EncodeToString(m[:])
	return h[0:4] + "." + h[4:8] + "." + h[8:12]
}

// ParseUUID reads a UUID in its 8-4-4-4-12 form.
func ParseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	b, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36])
	if err != nil {
		return u, false
	}
	copy(u[:], b)
	return u, true
}

// FormatUUID writes u in its 8-4-4-4-12 form.
func FormatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
