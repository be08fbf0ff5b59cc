package main

import (
	"bytes"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// faultProxy stands between the daemon and a mail world's SMTP server on its own
// 127.0.0.1 port, so the fault tests can make SMTP slow, stuck, refusing or answering
// 421 while the world itself stays up. Start it with startFaultProxy; the test's end
// closes it.
//
// It forwards bytes unchanged. Faults apply to the server's side of the conversation:
//   - a delay: each chunk the server sends waits a random time below the maximum, which
//     widens the window between the daemon's "sending" and "sent" records;
//   - a hold after DATA: once the client has sent the end of a message ("\r\n.\r\n"),
//     the server's answers on that connection wait until release, so the world has
//     delivered the message but the daemon has not heard the 250;
//   - 421: new connections are greeted "421" and closed, as a server shedding load;
//   - down: the port is closed, so connections are refused, until up reopens it.
type faultProxy struct {
	target string
	addr   string

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
	maxDelay time.Duration
	rnd      *rand.Rand
	hold     bool          // hold answers after the end of DATA
	released chan struct{} // closed by release; replaced when hold is set
	reply421 bool
	accepted int
	closed   bool
	serving  sync.WaitGroup
}

// startFaultProxy listens on 127.0.0.1 and forwards each connection to target.
func startFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fault proxy to %s: listen: %v", target, err)
	}
	p := &faultProxy{target: target, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{},
		rnd: rand.New(rand.NewPCG(1, 2)), released: make(chan struct{})}
	p.serving.Add(1)
	go p.serve(ln)
	t.Cleanup(p.close)
	return p
}

// Addr returns the proxy's address, "127.0.0.1:PORT"; it stays the same across down
// and up.
func (p *faultProxy) Addr() string { return p.addr }

// setDelay makes each chunk of the server's answers wait a random time in [0, max),
// drawn from a generator seeded with seed; max 0 forwards at once.
func (p *faultProxy) setDelay(max time.Duration, seed uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maxDelay, p.rnd = max, rand.New(rand.NewPCG(seed, seed^0x5eed))
}

// holdAfterData makes the server's answers after the end of a message wait until
// release.
func (p *faultProxy) holdAfterData() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.hold {
		p.hold, p.released = true, make(chan struct{})
	}
}

// release lets held answers through and stops holding new ones.
func (p *faultProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold {
		p.hold = false
		close(p.released)
	}
}

// set421 makes new connections get "421" and be closed (on), or be forwarded (off).
func (p *faultProxy) set421(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reply421 = on
}

// connections returns how many connections the proxy has accepted.
func (p *faultProxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// down closes the port and every connection through it: connecting is refused.
func (p *faultProxy) down() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		ln.Close()
		p.serving.Wait()
	}
}

// up reopens the port closed by down. Another process may have taken the port in the
// meantime (unlikely on loopback); up then fails the test.
func (p *faultProxy) up(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("fault proxy: reopen %s: %v", p.addr, err)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		ln.Close()
		return
	}
	p.ln = ln
	p.serving.Add(1)
	p.mu.Unlock()
	go p.serve(ln)
}

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.hold {
		p.hold = false
		close(p.released)
	}
	p.mu.Unlock()
	p.down()
}

func (p *faultProxy) serve(ln net.Listener) {
	defer p.serving.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		refuse := p.reply421
		if !refuse {
			p.conns[c] = true
		}
		p.mu.Unlock()
		if refuse {
			c.Write([]byte("421 4.3.2 fault proxy: service not available, closing transmission channel\r\n"))
			c.Close()
			continue
		}
		go p.forward(c)
	}
}

// forward copies one connection both ways until either side ends.
func (p *faultProxy) forward(client net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, client)
		p.mu.Unlock()
		client.Close()
	}()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer server.Close()

	var (
		mu       sync.Mutex
		dataDone bool // the client sent the end of a message
	)
	go func() {
		// Client to server, watching for the end of DATA across reads.
		var tail []byte
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				seen := append(tail, buf[:n]...)
				if bytes.Contains(seen, []byte("\r\n.\r\n")) {
					mu.Lock()
					dataDone = true
					mu.Unlock()
				}
				tail = append([]byte(nil), seen[max(0, len(seen)-4):]...)
				if _, werr := server.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		server.Close()
	}()

	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			var d time.Duration
			if p.maxDelay > 0 {
				d = time.Duration(p.rnd.Int64N(int64(p.maxDelay)))
			}
			hold, released := p.hold, p.released
			p.mu.Unlock()
			mu.Lock()
			held := hold && dataDone
			mu.Unlock()
			if held {
				<-released
			}
			time.Sleep(d)
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a closed connection: the conversation is over
		}
	}
}
