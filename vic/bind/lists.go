package bind

import (
	"fmt"
	"sync"

	"github.com/nivkit/niv/vic"
	"github.com/nivkit/niv/vic/iv"
)

// Lists is the iv.ListProgrammer a vis core is given for an IV port whose
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
	pending map[uint16][]uint16
	order   []uint16
	start   sync.Once
	wake    chan struct{}
	done    chan struct{}
}

// NewLists returns a Lists that holds what the core programs until Attach.
func NewLists() *Lists {
	return &Lists{pending: map[uint16][]uint16{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
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

// SetVIFList implements iv.ListProgrammer.
func (l *Lists) SetVIFList(list uint32, vifs []uint32) error {
	id, err := listID(list)
	if err != nil {
		return err
	}
	if len(vifs) > vic.MaxListMembers {
		return fmt.Errorf("%w: list %d: %d members, vic carries %d", iv.ErrVIF, id, len(vifs), vic.MaxListMembers)
	}
	m := make([]uint16, len(vifs))
	for i, v := range vifs {
		if v > vic.MaxVIF {
			return fmt.Errorf("%w: VIF %d", iv.ErrVIF, v)
		}
		m[i] = uint16(v)
	}
	l.note(id, m)
	return nil
}

// listID returns the vic list id of a core's list id: a VNTag
// vif_list_id, or the E-CID of a GRP 1 E-channel.
func listID(list uint32) (uint16, error) {
	id := list &^ (1 << 20)
	if id > 0xFFFF {
		return 0, fmt.Errorf("%w: list %#x has no vic list id", iv.ErrVIF, list)
	}
	return uint16(id), nil
}

// DeleteVIFList implements iv.ListProgrammer: the list is sent with no
// members.
func (l *Lists) DeleteVIFList(list uint32) error {
	id, err := listID(list)
	if err != nil {
		return err
	}
	l.note(id, []uint16{})
	return nil
}

func (l *Lists) note(id uint16, m []uint16) {
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
		l.pending, l.order = map[uint16][]uint16{}, nil
		agent, p := l.agent, l.port
		l.mu.Unlock()
		for _, id := range order {
			agent.SetVIFList(p, id, pending[id])
		}
	}
}

var _ iv.ListProgrammer = (*Lists)(nil)
