package vis

import (
	"testing"

	"github.com/nivkit/niv/vntag"
)

// isTPID, with mayBeTPID's one compare in front, says what vntag.KindOf
// says for every 16-bit value: the range holds every tag kind's TPID.
func TestIsTPIDIsKindOf(t *testing.T) {
	for et := range 1 << 16 {
		if got, want := isTPID(uint16(et)), vntag.KindOf(uint16(et)) != vntag.KindNone; got != want {
			t.Fatalf("isTPID(%#04x) = %v, KindOf says %v", et, got, want)
		}
	}
}
