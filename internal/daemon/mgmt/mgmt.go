// Package mgmt is the management socket of the niv daemons: a unix
// socket, root only, carrying JSON lines. Each request is one JSON object
// on one line; each answer is one JSON object on one line. The peer's
// credentials (SO_PEERCRED) are checked on every connection: only uid 0 is
// served. A request that is not JSON, names no command or is longer than
// MaxRequest bytes gets an error answer and changes nothing.
package mgmt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// MaxRequest is the longest request line accepted, in bytes (a `niv
// configure` of a large profile set fits many times over).
const MaxRequest = 1 << 20

// Errors a caller can branch on (they reach the client as text).
var (
	ErrNotRoot   = errors.New("mgmt: permission denied: the management socket serves root only")
	ErrMalformed = errors.New("mgmt: malformed request")
	ErrTooLarge  = errors.New("mgmt: request too large")
	ErrUnknown   = errors.New("mgmt: unknown command")
)

// Request is one management request.
type Request struct {
	// Cmd is the command: "show interface", "configure", "vnic add", ...
	Cmd string `json:"cmd"`
	// Args are its words ("vethernet", "5").
	Args []string `json:"args,omitempty"`
	// Input is text the command reads (configuration edits).
	Input string `json:"input,omitempty"`
}

// Response is the answer to one request.
type Response struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Text is the answer as NX-OS would print it.
	Text string `json:"text,omitempty"`
	// Data is the answer for machines (`--json`).
	Data json.RawMessage `json:"data,omitempty"`
}

// Handler answers requests. It is called for one request at a time per
// connection, from many connections at once.
type Handler func(Request) Response

// Fail returns the answer for an error.
func Fail(err error) Response { return Response{Error: err.Error()} }

// Answer returns a successful answer with text and data (marshalled; nil
// for none).
func Answer(text string, data any) Response {
	r := Response{OK: true, Text: text}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return Fail(err)
		}
		r.Data = b
	}
	return r
}

// Server serves a Handler on a unix socket.
type Server struct {
	ln   *net.UnixListener
	path string
	h    Handler
	log  *slog.Logger
	wg   sync.WaitGroup
}

// Listen creates the socket at path (removing a stale one) with mode 0600,
// owned by the daemon's user.
func Listen(path string, h Handler, log *slog.Logger) (*Server, error) {
	return ListenMode(path, 0o600, h, log)
}

// ListenMode is Listen with another file mode. The peer check still serves
// root only: a wider mode only lets others connect and be refused (tests
// use it to see the check work).
func ListenMode(path string, mode os.FileMode, h Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("mgmt: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("mgmt: %w", err)
	}
	return &Server{ln: ln, path: path, h: h, log: log}, nil
}

// Serve accepts connections until ctx is done or Close is called.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			s.wg.Wait()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("mgmt: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
		}()
	}
}

// Close stops accepting and removes the socket.
func (s *Server) Close() error {
	err := s.ln.Close()
	os.Remove(s.path)
	return err
}

// peerUID returns the uid of the process at the other end of c.
func peerUID(c *net.UnixConn) (uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	err = raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}

func write(c net.Conn, r Response) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Write(append(b, '\n'))
	return err
}

func (s *Server) serveConn(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	uid, err := peerUID(c)
	if err != nil || uid != 0 {
		s.log.Warn("management connection refused", "uid", uid, "err", err)
		write(c, Fail(fmt.Errorf("%w (peer uid %d)", ErrNotRoot, uid)))
		return
	}
	r := bufio.NewReaderSize(c, 64<<10)
	for {
		line, err := readLine(r)
		if errors.Is(err, ErrTooLarge) {
			s.log.Warn("management request refused", "err", err)
			write(c, Fail(err))
			return // the rest of the line cannot be told from a next request
		}
		if err != nil {
			return
		}
		var req Request
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || dec.More() {
			if err == nil {
				err = errors.New("more than one JSON value on the line")
			}
			write(c, Fail(fmt.Errorf("%w: %v", ErrMalformed, err)))
			continue
		}
		if req.Cmd == "" {
			write(c, Fail(fmt.Errorf("%w: no \"cmd\"", ErrMalformed)))
			continue
		}
		s.log.Debug("management request", "cmd", req.Cmd, "args", req.Args)
		if write(c, s.h(req)) != nil {
			return
		}
	}
}

// readLine reads one line of at most MaxRequest bytes, without its
// newline.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > MaxRequest+1 {
			return nil, fmt.Errorf("%w: longer than %d bytes", ErrTooLarge, MaxRequest)
		}
		line = append(line, frag...)
		if err == nil {
			return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'}), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// Call sends one request to the daemon at path and returns its answer. A
// Response with OK false is returned as is, with a nil error: the error
// is the daemon's.
func Call(path string, req Request) (Response, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return Response{}, fmt.Errorf("mgmt: %w", err)
	}
	defer c.Close()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	_, werr := c.Write(append(b, '\n'))
	// Even if the write failed, the daemon may have answered (a refusal)
	// before hanging up: read it.
	var resp Response
	sc := bufio.NewScanner(c)
	sc.Buffer(nil, 64<<20)
	if !sc.Scan() {
		if werr != nil {
			return Response{}, fmt.Errorf("mgmt: %w", werr)
		}
		if sc.Err() != nil {
			return Response{}, fmt.Errorf("mgmt: %w", sc.Err())
		}
		return Response{}, errors.New("mgmt: the daemon closed the connection without answering")
	}
	if err := json.Unmarshal(sc.Bytes(), &resp); err != nil {
		return Response{}, fmt.Errorf("mgmt: bad answer: %w", err)
	}
	return resp, nil
}
