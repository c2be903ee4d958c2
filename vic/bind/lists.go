package bind

import (
	"fmt"
	"slices"
	"sync"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/vis"
	"github.com/nivkit/niv/vntag"
)

// Lists is the vis.ListProgrammer a vis core is given for an IV port whose
// IV is remote: it sends each vif list the core programs to the IV as a vic
// vif-list request, through the VIS agent. The core programs lists while
// it holds its lock, often inside the agent's own programming calls, so
// Lists only notes the newest members of each list and a goroutine of its
// own hands them to the agent.
//
// List ids are vic's 16-bit ids: a VNTag vif_list_id, or in E-Tag mode the
// E-CID of a GRP 1 E-channel (the only channels a vis core floods to).
// A list of more than vic.MaxListMembers members is refused.
type Lists struct {
	mu      sync.Mutex
	agent   *vic.VISAgent
	port    vic.PortID
	pending map[uint16][]vntag.VIF
	order   []uint16
	start   sync.Once
	wake    chan struct{}
	done    chan struct{}
}

// NewLists returns a Lists that holds what the core programs until Attach.
func NewLists() *Lists {
	return &Lists{pending: map[uint16][]vntag.VIF{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Attach starts sending the lists to agent's port p, those programmed so
// far first. Attach again to send to a new agent (a restarted VIS).
func (l *Lists) Attach(agent *vic.VISAgent, p vic.PortID) {
	l.mu.Lock()
	l.agent, l.port = agent, p
	l.mu.Unlock()
	l.start.Do(func() { go l.run() })
	l.kick()
}

// Close stops the goroutine; later lists are dropped.
func (l *Lists) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
	default:
		close(l.done)
	}
}

// SetVIFList implements vis.ListProgrammer.
func (l *Lists) SetVIFList(list uint32, vifs []vntag.VIF) error {
	id, err := listID(list)
	if err != nil {
		return err
	}
	if len(vifs) > vic.MaxListMembers {
		return fmt.Errorf("%w: list %d: %d members, vic carries %d", vis.ErrVIF, id, len(vifs), vic.MaxListMembers)
	}
	for _, v := range vifs {
		if v > vic.MaxVIF {
			return fmt.Errorf("%w: VIF %d", vis.ErrVIF, v)
		}
	}
	l.note(id, slices.Clone(vifs))
	return nil
}

// listID returns the vic list id of a core's list id: a VNTag
// vif_list_id, or the E-CID of a GRP 1 E-channel.
func listID(list uint32) (uint16, error) {
	id := list &^ (1 << 20)
	if id > 0xFFFF {
		return 0, fmt.Errorf("%w: list %#x has no vic list id", vis.ErrVIF, list)
	}
	return uint16(id), nil
}

// DeleteVIFList implements vis.ListProgrammer: the list is sent with no
// members.
func (l *Lists) DeleteVIFList(list uint32) error {
	id, err := listID(list)
	if err != nil {
		return err
	}
	l.note(id, []vntag.VIF{})
	return nil
}

func (l *Lists) note(id uint16, m []vntag.VIF) {
	l.mu.Lock()
	if _, ok := l.pending[id]; !ok {
		l.order = append(l.order, id)
	}
	l.pending[id] = m
	l.mu.Unlock()
	l.kick()
}

func (l *Lists) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Lists) run() {
	for {
		select {
		case <-l.done:
			return
		case <-l.wake:
		}
		l.mu.Lock()
		pending, order := l.pending, l.order
		l.pending, l.order = map[uint16][]vntag.VIF{}, nil
		agent, p := l.agent, l.port
		l.mu.Unlock()
		for _, id := range order {
			agent.SetVIFList(p, id, pending[id])
		}
	}
}

var _ vis.ListProgrammer = (*Lists)(nil)
