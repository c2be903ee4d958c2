package vdp

// PDU is a whole VDPDU: the Manager ID TLV, then the VSI TLVs, each with
// the organizationally defined TLVs that follow it. It is a value that
// Decode fills again and again without allocating once its slices have
// grown.
type PDU struct {
	// ManagerID is the VSI Manager ID of the first TLV.
	ManagerID ManagerID
	// Org holds organizationally defined TLVs between the Manager ID and
	// the first VSI TLV (lldpad sends none there).
	Org []Org
	// VSIs are the VSI TLVs in order (lldpad sends one per VDPDU).
	VSIs []VSI
	// Skipped counts TLVs of unknown types that Decode skipped.
	Skipped int
}

// Decode reads the VDPDU b (an ECP subtype-1 payload, Ethernet padding
// allowed) into p, reusing p's slices; the Org TLVs' Data alias b. It
// fails with a *DecodeError wrapping ErrOrder (the first TLV is not the
// Manager ID, or there is a second one), ErrShortBuffer, ErrLength,
// ErrFormat or ErrNoFilters. A VDPDU with a Manager ID and no VSI TLV
// decodes (with no VSIs). p is partly filled after an error.
func (p *PDU) Decode(b []byte) error {
	p.Org, p.Skipped = p.Org[:0], 0
	nv := 0
	d := NewDecoder(b)
	first := true
	for d.Next() {
		t := d.Type()
		if first != (t == TypeManagerID) {
			p.VSIs = p.VSIs[:nv]
			return &DecodeError{Offset: d.Offset(), Type: t, Err: ErrOrder}
		}
		first = false
		switch {
		case t == TypeManagerID:
			p.ManagerID = d.ManagerID()
		case t.IsVSI():
			if nv < cap(p.VSIs) {
				p.VSIs = p.VSIs[:nv+1]
			} else {
				p.VSIs = append(p.VSIs, VSI{})
			}
			d.VSI(&p.VSIs[nv])
			nv++
		case t == TypeOrg:
			o := d.Org()
			if nv == 0 {
				p.Org = append(p.Org, o)
			} else {
				v := &p.VSIs[nv-1]
				v.Org = append(v.Org, o)
			}
		default:
			p.Skipped++
		}
	}
	p.VSIs = p.VSIs[:nv]
	if err := d.Err(); err != nil {
		return &DecodeError{Offset: d.Offset(), Type: d.Type(), Err: err}
	}
	if first {
		return &DecodeError{Offset: 0, Err: ErrOrder}
	}
	return nil
}

// Len returns the encoded length of p.
func (p *PDU) Len() int {
	n := TLVHeaderLen + ManagerIDLen
	for i := range p.Org {
		n += TLVHeaderLen + OUILen + len(p.Org[i].Data)
	}
	for i := range p.VSIs {
		v := &p.VSIs[i]
		n += TLVHeaderLen + v.Len()
		for j := range v.Org {
			n += TLVHeaderLen + OUILen + len(v.Org[j].Data)
		}
	}
	return n
}

// AppendBinary appends the VDPDU — Manager ID TLV, p.Org, then each VSI
// TLV and its Org TLVs — to b, with no End TLV (as lldpad sends it; ECP
// pads the frame with zeros, which read as End). On error b is returned
// as it was.
func (p *PDU) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, byte(TypeManagerID)<<1, ManagerIDLen)
	b = append(b, p.ManagerID[:]...)
	var err error
	for i := range p.Org {
		if b, err = p.Org[i].AppendBinary(b); err != nil {
			return b[:start], err
		}
	}
	for i := range p.VSIs {
		if b, err = p.VSIs[i].AppendBinary(b); err != nil {
			return b[:start], err
		}
	}
	return b, nil
}

// Response turns p, a request just decoded, into the bridge's response in
// place: every VSI TLV gets status st (StatusResponse and an error code,
// see ResponseStatus); Manager ID, filters and Org TLVs stay, as
// lldpad's bridge echoes them.
func (p *PDU) Response(st Status) {
	for i := range p.VSIs {
		p.VSIs[i].Status = st | StatusResponse
	}
}
