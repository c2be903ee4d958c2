package profile

// tokenBucket is a single-rate, two-colour policer (RFC 2697 without the
// excess bucket): the bucket holds at most Burst bytes, refills at CIR, and
// a frame passes only if the bucket holds its length.
//
// Arithmetic is exact, in integers: one token is 1/8e9 of a byte, so a
// nanosecond at CIR bits per second adds exactly CIR tokens and a byte costs
// 8e9. Over any interval of length t nanoseconds the bucket therefore admits
// at most Burst + CIR·t/8e9 bytes.
type tokenBucket struct {
	rate     uint64 // tokens per nanosecond = CIR in bits per second
	capacity uint64 // Burst * 8e9
	burst    uint64 // bytes
	tokens   uint64
	last     int64 // nanoseconds
	primed   bool
}

// tokensPerByte is the cost of one byte: 8 bits times nanoseconds per second.
const tokensPerByte = 8 * nanos

// configure sets the bucket's rate and size and fills it at the next frame.
func (b *tokenBucket) configure(p Police) {
	*b = tokenBucket{rate: p.CIR, burst: p.Burst, capacity: p.Burst * tokensPerByte}
}

// admit refills the bucket for the time since the last frame and takes
// length bytes from it if it holds them. Time that goes backwards adds
// nothing.
func (b *tokenBucket) admit(now int64, length uint32) bool {
	switch {
	case !b.primed:
		b.tokens, b.last, b.primed = b.capacity, now, true
	case now > b.last:
		elapsed := uint64(now - b.last)
		if room := b.capacity - b.tokens; elapsed > room/b.rate {
			b.tokens = b.capacity
		} else {
			b.tokens += elapsed * b.rate
		}
		b.last = now
	}
	if uint64(length) > b.burst {
		return false
	}
	cost := uint64(length) * tokensPerByte
	if cost > b.tokens {
		return false
	}
	b.tokens -= cost
	return true
}
