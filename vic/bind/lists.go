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
// List ids are the core's, and vic's since version 2: a VNTag
// vif_list_id, or in E-Tag mode the E-channel GRP<<20 | E-CID, GRP 1-3.
type Lists struct {
	mu      sync.Mutex
	agent   *vic.VISAgent
	port    vic.PortID
	pending map[uint32][]vntag.VIF
	order   []uint32
	start   sync.Once
	wake    chan struct{}
	done    chan struct{}
}

// NewLists returns a Lists that holds what the core programs until Attach.
func NewLists() *Lists {
	return &Lists{pending: map[uint32][]vntag.VIF{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
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

// SetVIFList implements vis.ListProgrammer. A list vic cannot carry in
// one message — more than vic.MaxListMembers members, or more than
// vic.MaxWideListMembers for a list that needs the wide TLV — is refused.
func (l *Lists) SetVIFList(list uint32, vifs []vntag.VIF) error {
	if list>>20 > vntag.MaxGRP {
		return fmt.Errorf("%w: list %#x has no vic list id", vis.ErrVIF, list)
	}
	max := vic.MaxListMembers
	if vic.WideList(list, vifs) {
		max = vic.MaxWideListMembers
	}
	if len(vifs) > max {
		return fmt.Errorf("%w: list %#x: %d members, vic carries %d", vis.ErrVIF, list, len(vifs), max)
	}
	for _, v := range vifs {
		if v == 0 || v > vntag.MaxECID {
			return fmt.Errorf("%w: VIF %d", vis.ErrVIF, v)
		}
	}
	l.note(list, slices.Clone(vifs))
	return nil
}

// DeleteVIFList implements vis.ListProgrammer: the list is sent with no
// members.
func (l *Lists) DeleteVIFList(list uint32) error {
	if list>>20 > vntag.MaxGRP {
		return fmt.Errorf("%w: list %#x has no vic list id", vis.ErrVIF, list)
	}
	l.note(list, []vntag.VIF{})
	return nil
}

func (l *Lists) note(id uint32, m []vntag.VIF) {
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
		l.pending, l.order = map[uint32][]vntag.VIF{}, nil
		agent, p := l.agent, l.port
		l.mu.Unlock()
		for _, id := range order {
			agent.SetVIFList(p, id, pending[id])
		}
	}
}

var _ vis.ListProgrammer = (*Lists)(nil)
