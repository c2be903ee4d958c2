package conformance

import (
	"bufio"
	"context"
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

// ControlHandler is what a device under test does on each request.
type ControlHandler interface {
	Start(name string, setup *Setup, files map[string]string) error
	Step(st Step) error
	Finish() (Lists, string, error)
}

// ServeControl answers control requests on ln with h until ctx is done
// or ln fails. Connections are served one at a time, in order.
func ServeControl(ctx context.Context, ln net.Listener, h ControlHandler) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return devErr("control: %v", err)
		}
		serveConn(ctx, conn, h)
	}
}

func serveConn(ctx context.Context, conn net.Conn, h ControlHandler) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	enc := json.NewEncoder(conn)
	for sc.Scan() {
		var req ControlRequest
		rep := ControlReply{OK: true}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			rep = ControlReply{Error: "bad request: " + err.Error()}
		} else if err := handle(h, &req, &rep); err != nil {
			rep.OK, rep.Error = false, err.Error()
		}
		if enc.Encode(&rep) != nil {
			return
		}
	}
}

func handle(h ControlHandler, req *ControlRequest, rep *ControlReply) error {
	switch req.Op {
	case "start":
		setup, err := ParseSetup(req.Setup)
		if err != nil {
			return err
		}
		return h.Start(req.Case, setup, req.Files)
	case "step":
		st, err := ParseStep(req.Step)
		if err != nil {
			return err
		}
		return h.Step(st)
	case "finish":
		var err error
		rep.Lists, rep.State, err = h.Finish()
		return err
	}
	return devErr("control: unknown op %q", req.Op)
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
