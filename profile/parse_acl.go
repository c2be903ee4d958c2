package profile

import (
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Access-list entries have optional parts (sequence number, port
// conditions, EtherType, VLAN), so they are parsed by hand rather than from
// syntax strings; errors point at the word that is wrong all the same.

// cursor walks the tokens of one line.
type cursor struct {
	l *srcLine
	i int
}

func (c *cursor) more() bool { return c.i < len(c.l.toks) }

func (c *cursor) peek() string {
	if c.more() {
		return strings.ToLower(c.l.toks[c.i].text)
	}
	return ""
}

// take returns the next token, or an "incomplete" error naming what was
// expected.
func (c *cursor) take(what string) (token, error) {
	if !c.more() {
		return token{}, &ParseError{Line: c.l.num, Column: len(strings.TrimRight(c.l.raw, " \t")) + 1, Err: ErrSyntax,
			Msg: "incomplete access-list entry: expected " + what}
	}
	t := c.l.toks[c.i]
	c.i++
	return t, nil
}

func (c *cursor) fail(t token, sentinel error, msg string) error {
	return &ParseError{Line: c.l.num, Column: t.col, Msg: msg, Err: sentinel}
}

// failWord reports an unexpected keyword and suggests the whole line with
// the word corrected, when a candidate is close.
func (c *cursor) failWord(t token, sentinel error, msg string, candidates []string) error {
	pe := &ParseError{Line: c.l.num, Column: t.col, Msg: msg, Err: sentinel}
	if w, ok := closestWord(strings.ToLower(t.text), candidates); ok {
		toks := slices.Clone(c.l.toks)
		toks[c.i-1].text = w
		pe.Suggestion = joinTokens(toks)
	}
	return pe
}

// end reports an error if words are left over.
func (c *cursor) end() error {
	if !c.more() {
		return nil
	}
	t := c.l.toks[c.i]
	return c.fail(t, ErrSyntax, "unexpected "+strconv.Quote(t.text)+" at the end of the access-list entry")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// seqAndAction reads "[SEQ] permit|deny".
func (c *cursor) seqAndAction() (seq uint32, hasSeq bool, a Action, err error) {
	if isDigits(c.peek()) {
		t, _ := c.take("")
		n, perr := strconv.ParseUint(t.text, 10, 32)
		if perr != nil || n == 0 {
			return 0, false, 0, c.fail(t, ErrValueRange, "sequence number "+t.text+" is out of range; use 1-4294967295")
		}
		seq, hasSeq = uint32(n), true
	}
	t, err := c.take("permit or deny")
	if err != nil {
		return 0, false, 0, err
	}
	switch strings.ToLower(t.text) {
	case "permit":
		return seq, hasSeq, Permit, nil
	case "deny":
		return seq, hasSeq, Deny, nil
	}
	sentinel := ErrSyntax
	if c.i == 1 {
		sentinel = ErrUnknownCommand
	}
	return 0, false, 0, c.failWord(t, sentinel, strconv.Quote(t.text)+" is not an access-list command: an entry is [SEQ] permit|deny ...", []string{"permit", "deny", "no"})
}

// nextSeq picks the sequence number of an entry typed without one: ten more
// than the last, as NX-OS does.
func nextSeq(last uint32, n int, c *cursor) (uint32, error) {
	if n == 0 {
		return 10, nil
	}
	if last > ^uint32(0)-10 {
		return 0, c.fail(c.l.toks[0], ErrValueRange, "no sequence number is left after "+strconv.FormatUint(uint64(last), 10)+"; give one explicitly")
	}
	return last + 10, nil
}

// addEntry returns entries with e inserted by sequence number, as a new
// slice (committed configurations share entry slices). An entry typed
// without a sequence number (hasSeq false) gets the next one (nextSeq).
func addEntry[E any](entries []E, e E, hasSeq bool, seqOf func(*E) *uint32, c *cursor, acl string) ([]E, error) {
	if !hasSeq {
		var last uint32
		if n := len(entries); n > 0 {
			last = *seqOf(&entries[n-1])
		}
		next, err := nextSeq(last, len(entries), c)
		if err != nil {
			return nil, err
		}
		*seqOf(&e) = next
	}
	seq := *seqOf(&e)
	i, found := slices.BinarySearchFunc(entries, seq, func(x E, s uint32) int {
		return cmpU32(*seqOf(&x), s)
	})
	if found {
		return nil, c.fail(c.l.toks[0], ErrDuplicate, "sequence number "+strconv.FormatUint(uint64(seq), 10)+
			" is already used in access-list "+acl+"; remove it first with \"no "+strconv.FormatUint(uint64(seq), 10)+"\"")
	}
	if len(entries) >= MaxACLEntries {
		return nil, c.fail(c.l.toks[0], ErrTooLarge, "access-list "+acl+" already holds "+strconv.Itoa(MaxACLEntries)+" entries, the most niv supports")
	}
	out := make([]E, 0, len(entries)+1)
	out = append(out, entries[:i]...)
	out = append(out, e)
	return append(out, entries[i:]...), nil
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// removeSeq handles "no SEQ".
func removeSeq[E any](entries []E, seqOf func(*E) *uint32, c *cursor, acl string) ([]E, error) {
	c.i = 1
	t, err := c.take("the sequence number of the entry to remove")
	if err != nil {
		return nil, err
	}
	n, perr := strconv.ParseUint(t.text, 10, 32)
	if perr != nil {
		return nil, c.fail(t, ErrSyntax, "\"no\" in an access-list takes a sequence number, not "+strconv.Quote(t.text))
	}
	if err := c.end(); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(entries, func(e E) bool { return uint64(*seqOf(&e)) == n })
	if i < 0 {
		return nil, c.fail(t, ErrNotFound, "access-list "+acl+" has no entry "+t.text)
	}
	return slices.Delete(slices.Clone(entries), i, i+1), nil
}

func ipSeq(e *IPEntry) *uint32   { return &e.Seq }
func macSeq(e *MACEntry) *uint32 { return &e.Seq }

// ipACLLine handles one line of ip access-list mode.
func (p *parser) ipACLLine(l *srcLine) error {
	c := &cursor{l: l}
	acl := p.cfg.IPACLs[p.name]
	var err error
	if c.peek() == "no" {
		if acl.Entries, err = removeSeq(acl.Entries, ipSeq, c, p.name); err != nil {
			return err
		}
		p.cfg.IPACLs[p.name] = acl
		return nil
	}
	e, hasSeq, err := c.ipEntry()
	if err != nil {
		return err
	}
	if acl.Entries, err = addEntry(acl.Entries, e, hasSeq, ipSeq, c, p.name); err != nil {
		return err
	}
	p.cfg.IPACLs[p.name] = acl
	return nil
}

var protocolNames = map[string]Protocol{"ip": AnyProtocol, "icmp": ProtoICMP, "tcp": ProtoTCP, "udp": ProtoUDP}

func (c *cursor) ipEntry() (IPEntry, bool, error) {
	var e IPEntry
	seq, hasSeq, action, err := c.seqAndAction()
	if err != nil {
		return e, false, err
	}
	e.Seq, e.Action = seq, action
	t, err := c.take("a protocol: ip, tcp, udp, icmp or 0-255")
	if err != nil {
		return e, false, err
	}
	if proto, ok := protocolNames[strings.ToLower(t.text)]; ok {
		e.Protocol = proto
	} else if n, perr := strconv.ParseUint(t.text, 10, 8); perr == nil {
		e.Protocol = Protocol(n)
	} else {
		return e, false, c.failWord(t, ErrSyntax, strconv.Quote(t.text)+" is not a protocol: use ip, tcp, udp, icmp or a number 0-255",
			[]string{"ip", "tcp", "udp", "icmp"})
	}
	if e.Source, err = c.prefix("source"); err != nil {
		return e, false, err
	}
	if e.SourcePort, err = c.portMatch(e.Protocol); err != nil {
		return e, false, err
	}
	if e.Destination, err = c.prefix("destination"); err != nil {
		return e, false, err
	}
	if e.DestinationPort, err = c.portMatch(e.Protocol); err != nil {
		return e, false, err
	}
	return e, hasSeq, c.end()
}

// prefix reads "any", "host A.B.C.D" or "A.B.C.D/LEN".
func (c *cursor) prefix(what string) (netip.Prefix, error) {
	t, err := c.take("a " + what + ": any, host A.B.C.D or A.B.C.D/LEN")
	if err != nil {
		return netip.Prefix{}, err
	}
	switch strings.ToLower(t.text) {
	case "any":
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	case "host":
		h, err := c.take("an IPv4 address after host")
		if err != nil {
			return netip.Prefix{}, err
		}
		a, perr := netip.ParseAddr(h.text)
		if perr != nil || !a.Is4() {
			return netip.Prefix{}, c.fail(h, ErrSyntax, strconv.Quote(h.text)+" is not an IPv4 address")
		}
		return netip.PrefixFrom(a, 32), nil
	}
	pfx, perr := netip.ParsePrefix(t.text)
	if perr == nil && pfx.Addr().Is4() {
		return pfx.Masked(), nil
	}
	if a, aerr := netip.ParseAddr(t.text); aerr == nil && a.Is4() {
		pe := c.fail(t, ErrSyntax, "a bare address is ambiguous: write host "+t.text+" for one host or "+t.text+"/LEN for a network").(*ParseError)
		pe.Suggestion = "host " + t.text
		return netip.Prefix{}, pe
	}
	return netip.Prefix{}, c.fail(t, ErrSyntax, strconv.Quote(t.text)+" is not a "+what+": use any, host A.B.C.D or A.B.C.D/LEN (IPv4)")
}

var portOps = map[string]PortOp{"eq": PortEq, "neq": PortNeq, "lt": PortLt, "gt": PortGt, "range": PortRange}

// portMatch reads an optional port condition.
func (c *cursor) portMatch(proto Protocol) (PortMatch, error) {
	op, ok := portOps[c.peek()]
	if !ok {
		return PortMatch{}, nil
	}
	opTok, _ := c.take("")
	if !proto.hasPorts() {
		return PortMatch{}, c.fail(opTok, ErrSyntax, "port conditions need protocol tcp or udp")
	}
	m := PortMatch{Op: op}
	port := func() (uint16, error) {
		t, err := c.take("a port number 0-65535")
		if err != nil {
			return 0, err
		}
		n, perr := strconv.ParseUint(t.text, 10, 16)
		if perr != nil {
			return 0, c.fail(t, ErrSyntax, strconv.Quote(t.text)+" is not a port number 0-65535")
		}
		return uint16(n), nil
	}
	var err error
	if m.Port, err = port(); err != nil {
		return m, err
	}
	switch op {
	case PortLt:
		if m.Port == 0 {
			return m, c.fail(opTok, ErrValueRange, "no port is less than 0")
		}
	case PortGt:
		if m.Port == 65535 {
			return m, c.fail(opTok, ErrValueRange, "no port is greater than 65535")
		}
	case PortRange:
		if m.Last, err = port(); err != nil {
			return m, err
		}
		if m.Last < m.Port {
			return m, c.fail(opTok, ErrValueRange, "port range "+strconv.Itoa(int(m.Port))+" "+strconv.Itoa(int(m.Last))+" runs backwards; write it low high")
		}
	}
	return m, nil
}

// macACLLine handles one line of mac access-list mode.
func (p *parser) macACLLine(l *srcLine) error {
	c := &cursor{l: l}
	acl := p.cfg.MACACLs[p.name]
	var err error
	if c.peek() == "no" {
		if acl.Entries, err = removeSeq(acl.Entries, macSeq, c, p.name); err != nil {
			return err
		}
		p.cfg.MACACLs[p.name] = acl
		return nil
	}
	var e MACEntry
	var hasSeq bool
	if e.Seq, hasSeq, e.Action, err = c.seqAndAction(); err != nil {
		return err
	}
	if e.Source, e.SourceMask, err = c.macSpec("source"); err != nil {
		return err
	}
	if e.Destination, e.DestinationMask, err = c.macSpec("destination"); err != nil {
		return err
	}
	if c.more() && c.peek() != "vlan" {
		t, _ := c.take("")
		if e.EtherType, err = c.etherType(t); err != nil {
			return err
		}
	}
	if c.peek() == "vlan" {
		c.take("")
		t, err := c.take("a VLAN ID 1-4094")
		if err != nil {
			return err
		}
		v, msg, verr := parseVLAN(t.text)
		if verr != nil {
			return c.fail(t, verr, msg)
		}
		e.VLAN = v
	}
	if err := c.end(); err != nil {
		return err
	}
	if acl.Entries, err = addEntry(acl.Entries, e, hasSeq, macSeq, c, p.name); err != nil {
		return err
	}
	p.cfg.MACACLs[p.name] = acl
	return nil
}

var etherTypeNames = map[string]uint16{"ip": 0x0800, "arp": 0x0806, "ipv6": 0x86dd}

func (c *cursor) etherType(t token) (uint16, error) {
	if v, ok := etherTypeNames[strings.ToLower(t.text)]; ok {
		return v, nil
	}
	s := strings.ToLower(t.text)
	if strings.HasPrefix(s, "0x") {
		if n, err := strconv.ParseUint(s[2:], 16, 16); err == nil && n >= 0x0600 {
			return uint16(n), nil
		}
	}
	return 0, c.fail(t, ErrSyntax, strconv.Quote(t.text)+" is not an EtherType: use 0x0600-0xffff, ip, arp or ipv6, or vlan VLAN")
}

// macSpec reads "any", "host MAC" or "MAC MASK" (wildcard mask).
func (c *cursor) macSpec(what string) (mac, wildcard [6]byte, err error) {
	t, err := c.take("a " + what + ": any, host MAC or MAC MASK")
	if err != nil {
		return mac, wildcard, err
	}
	switch strings.ToLower(t.text) {
	case "any":
		return mac, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, nil
	case "host":
		h, err := c.take("a MAC address after host")
		if err != nil {
			return mac, wildcard, err
		}
		if mac, err = c.mac(h); err != nil {
			return mac, wildcard, err
		}
		return mac, wildcard, nil
	}
	if mac, err = c.mac(t); err != nil {
		return mac, wildcard, err
	}
	m, err := c.take("a wildcard mask after " + t.text + " (or write host " + t.text + ")")
	if err != nil {
		return mac, wildcard, err
	}
	if wildcard, err = c.mac(m); err != nil {
		return mac, wildcard, err
	}
	for i := range mac {
		mac[i] &^= wildcard[i]
	}
	return mac, wildcard, nil
}

// mac parses EEEE.EEEE.EEEE (NX-OS) or EE:EE:EE:EE:EE:EE / EE-EE-EE-EE-EE-EE.
func (c *cursor) mac(t token) ([6]byte, error) {
	var out [6]byte
	s := t.text
	var digits string
	switch {
	case len(s) == 14 && s[4] == '.' && s[9] == '.':
		digits = s[0:4] + s[5:9] + s[10:14]
	case len(s) == 17 && (s[2] == ':' || s[2] == '-'):
		for i := 0; i < 17; i += 3 {
			if i > 0 && s[i-1] != s[2] {
				digits = ""
				break
			}
			digits += s[i : i+2]
		}
	}
	if len(digits) == 12 {
		if _, err := hex.Decode(out[:], []byte(digits)); err == nil {
			return out, nil
		}
	}
	return out, c.fail(t, ErrSyntax, strconv.Quote(s)+" is not a MAC address: write it as 0050.56aa.bbcc")
}
