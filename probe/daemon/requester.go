package daemon

import (
	"context"
	"fmt"
	"net"
	"os/user"
	"strconv"
	"syscall"
)

// Who asked: the audit log names the person behind every reload, pause and correction.
// On the control socket the kernel says which account connected (SO_PEERCRED), which a
// client cannot forge; the name a command sends (its $USER) is only a claim and is kept
// beside the account when the two differ. A reload by signal names the signal, since
// Go does not tell who sent it.

type requesterKey struct{}

// WithRequester returns ctx carrying by, the name the audit log records for whatever is
// asked within ctx (a reload, for one).
func WithRequester(ctx context.Context, by string) context.Context {
	return context.WithValue(ctx, requesterKey{}, by)
}

// requester returns the name WithRequester put in ctx, or "".
func requester(ctx context.Context) string {
	by, _ := ctx.Value(requesterKey{}).(string)
	return by
}

type peerKey struct{}

// peer is the account at the other end of a control-socket connection.
type peer struct {
	uid, pid int
	name     string // the account's login name; "" when the uid has none
}

// String names the account as the audit log shows it: "lin (uid 1000, pid 4242)".
func (p peer) String() string {
	if p.name == "" {
		return fmt.Sprintf("uid %d (pid %d)", p.uid, p.pid)
	}
	return fmt.Sprintf("%s (uid %d, pid %d)", p.name, p.uid, p.pid)
}

// withPeer is the control server's ConnContext: it reads the credentials of the process
// that connected to the unix socket and keeps them in the connection's context.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || credErr != nil || cred == nil {
		return ctx
	}
	p := peer{uid: int(cred.Uid), pid: int(cred.Pid)}
	if u, err := user.LookupId(strconv.Itoa(p.uid)); err == nil {
		p.name = u.Username
	}
	return context.WithValue(ctx, peerKey{}, p)
}

// askedBy names who made the request in ctx for the audit log: the account on the
// control socket, with claimed (the name the client sent) beside it when it differs;
// claimed alone when the connection's account is not known; else what WithRequester
// put in ctx.
func askedBy(ctx context.Context, claimed string) string {
	p, ok := ctx.Value(peerKey{}).(peer)
	switch {
	case ok && (claimed == "" || claimed == p.name):
		return p.String()
	case ok:
		return fmt.Sprintf("%s, as %s", p, strconv.Quote(claimed))
	case claimed != "":
		return claimed
	}
	return requester(ctx)
}
