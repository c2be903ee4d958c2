package conformance

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"time"
)

// ControlRequest is one request of the DUT control protocol: JSON, one
// object per line, over a stream socket (a unix socket works across network
// namespaces). The runner sends "start" before a case, "step" for each step
// of the case, and "finish" after the last frame; the device answers each
// with a ControlReply.
type ControlRequest struct {
	// Op is "start", "step" or "finish".
	Op string `json:"op"`
	// Case names the case (start), for the device's log.
	Case string `json:"case,omitempty"`
	// Setup is the text of setup.txt and Files the case's *.conf files by
	// name (start): the device rebuilds itself from them, with no state
	// left from an earlier case.
	Setup string            `json:"setup,omitempty"`
	Files map[string]string `json:"files,omitempty"`
	// Step is the setup line of the step to take (step).
	Step string `json:"step,omitempty"`
}

// ControlReply answers a ControlRequest.
type ControlReply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Lists are the vif lists the device has programmed (finish).
	Lists Lists `json:"lists,omitempty"`
	// State describes the device (finish), for a failing case's report.
	State string `json:"state,omitempty"`
}

// controlClient is the runner's end of the control protocol.
type controlClient struct {
	mu   sync.Mutex
	conn net.Conn
	sc   *bufio.Scanner
}

func dialControl(addr string, timeout time.Duration) (*controlClient, error) {
	conn, err := net.DialTimeout("unix", addr, timeout)
	if err != nil {
		return nil, devErr("control: %v", err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &controlClient{conn: conn, sc: sc}, nil
}

func (c *controlClient) call(req ControlRequest, timeout time.Duration) (*ControlReply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return nil, devErr("control: %v", err)
	}
	_ = c.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return nil, devErr("control: %v", err)
	}
	if !c.sc.Scan() {
		err := c.sc.Err()
		if err == nil {
			err = errors.New("connection closed")
		}
		return nil, devErr("control: %v", err)
	}
	var rep ControlReply
	if err := json.Unmarshal(c.sc.Bytes(), &rep); err != nil {
		return nil, devErr("control: bad reply: %v", err)
	}
	if !rep.OK {
		return &rep, devErr("device: %s", rep.Error)
	}
	return &rep, nil
}

func (c *controlClient) close() { c.conn.Close() }
