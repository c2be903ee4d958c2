package dissect

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendValue appends the field's value as tshark -T fields prints it for
// MACs and EtherTypes ("00:11:22:33:44:55", "0x0800") and in decimal for
// numbers.
func (x Field) AppendValue(b []byte) []byte {
	switch x.Kind {
	case MAC:
		for i, c := range x.Addr {
			if i > 0 {
				b = append(b, ':')
			}
			b = append(b, hexDigits[c>>4], hexDigits[c&0xF])
		}
		return b
	case EtherType:
		v := uint16(x.Num)
		return append(b, '0', 'x', hexDigits[v>>12], hexDigits[v>>8&0xF], hexDigits[v>>4&0xF], hexDigits[v&0xF])
	case Text:
		return append(b, x.Text...)
	}
	return strconv.AppendUint(b, x.Num, 10)
}

// Value returns AppendValue's text.
func (x Field) Value() string { return string(x.AppendValue(nil)) }

func (x Field) appendJSONValue(b []byte) []byte {
	switch x.Kind {
	case Number:
		return strconv.AppendUint(b, x.Num, 10)
	case Text:
		return appendJSONString(b, x.Text)
	}
	b = append(b, '"')
	b = x.AppendValue(b)
	return append(b, '"')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune([]byte(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n == 1 {
			b = append(b, "\\ufffd"...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// AppendJSON appends the frame as one JSON object and a newline:
//
//	{"frame": N, "fields": {"eth.dst": "…", "vlan.id": [10, 20], …}, "error": "…"}
//
// Keys appear in the order of their first occurrence; a name that occurs
// more than once becomes an array in order of appearance. Numbers are JSON
// numbers, booleans 0 or 1, EtherTypes strings like "0x0800", MAC addresses
// strings. "error" is present only for a malformed frame.
func (f *Frame) AppendJSON(b []byte, number int) []byte {
	b = append(b, `{"frame": `...)
	b = strconv.AppendInt(b, int64(number), 10)
	b = append(b, `, "fields": {`...)
	first := true
	for i, x := range f.Fields {
		if seenBefore(f.Fields[:i], x.Name) {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = appendJSONString(b, x.Name)
		b = append(b, ": "...)
		n := 0
		for _, y := range f.Fields[i:] {
			if y.Name == x.Name {
				n++
			}
		}
		if n == 1 {
			b = x.appendJSONValue(b)
			continue
		}
		b = append(b, '[')
		k := 0
		for _, y := range f.Fields[i:] {
			if y.Name != x.Name {
				continue
			}
			if k > 0 {
				b = append(b, ", "...)
			}
			k++
			b = y.appendJSONValue(b)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	if f.Err != nil {
		b = append(b, `, "error": `...)
		b = appendJSONString(b, f.Err.Error())
	}
	return append(b, "}\n"...)
}

func seenBefore(fields []Field, name string) bool {
	for _, x := range fields {
		if x.Name == name {
			return true
		}
	}
	return false
}

// AppendText appends one readable line for the frame:
//
//	3 00:11:22:33:44:55 > 02:00:00:00:00:01 VNTag[dir=1 ptr=1 dst=66 looped=1 r=0 version=0 src=5] type=0x0800 len=60
func (f *Frame) AppendText(b []byte, number, length int) []byte {
	b = strconv.AppendInt(b, int64(number), 10)
	i := 0
	for i < len(f.Fields) {
		x := f.Fields[i]
		switch x.Name {
		case EthDst:
			b = append(b, ' ')
			b = x.AppendValue(b)
			i++
		case EthSrc:
			b = append(b, " > "...)
			b = x.AppendValue(b)
			i++
		case EthType, VLANEtype, VNTagEtype, ETagEtype:
			i++ // shown as the next header, or as type= at the end
		default:
			i = appendGroup(&b, f.Fields, i)
		}
	}
	if f.Err == nil {
		if f.Next <= maxLength {
			b = append(b, " 802.3-length="...)
			b = strconv.AppendUint(b, uint64(f.Next), 10)
		} else {
			b = append(b, " type="...)
			b = Field{Kind: EtherType, Num: uint64(f.Next)}.AppendValue(b)
		}
	}
	b = append(b, " len="...)
	b = strconv.AppendInt(b, int64(length), 10)
	if f.Err != nil {
		b = append(b, " error: "...)
		b = append(b, f.Err.Error()...)
	}
	return append(b, '\n')
}

// appendGroup appends the fields of one header, starting at i, as
// NAME[a=1 b=2] and returns the index after them.
func appendGroup(b *[]byte, fields []Field, i int) int {
	proto := protoOf(fields[i].Name)
	*b = append(*b, ' ')
	*b = append(*b, protoLabel(proto)...)
	*b = append(*b, '[')
	j := i
	for ; j < len(fields) && protoOf(fields[j].Name) == proto && !isType(fields[j].Name); j++ {
		if j > i && startsHeader(fields[j].Name) {
			break
		}
		if j > i {
			*b = append(*b, ' ')
		}
		*b = append(*b, fields[j].Name[len(proto)+1:]...)
		*b = append(*b, '=')
		if fields[j].Kind == Text {
			*b = appendJSONString(*b, fields[j].Text) // quoted, so the line stays one line
		} else {
			*b = fields[j].AppendValue(*b)
		}
	}
	*b = append(*b, ']')
	return j
}

func isType(name string) bool {
	return name == EthType || name == VLANEtype || name == VNTagEtype || name == ETagEtype
}

// startsHeader reports whether name is the first field a header emits, so
// two adjacent headers of one protocol print apart.
func startsHeader(name string) bool {
	return name == VLANPriority || name == VNTagDir || name == ETagPCP
}

func protoOf(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name[:i]
		}
	}
	return name
}

func protoLabel(proto string) string {
	switch proto {
	case "vlan":
		return "802.1Q"
	case "ieee8021ad":
		return "802.1ad"
	case "vntag":
		return "VNTag"
	case "etag":
		return "E-Tag"
	}
	return proto
}
