// Command fdserver is a container init for the descriptor-passing test:
// it accepts one connection on the listening socket it inherited as
// descriptor 3 (socket activation), answers with what it was given, and
// then waits to be stopped.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fdserver:", err)
		os.Exit(1)
	}
	c, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fdserver:", err)
		os.Exit(1)
	}
	fmt.Fprintf(c, "hello from pid %d LISTEN_FDS=%s LISTEN_PID=%s\n", os.Getpid(), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_PID"))
	c.Close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGUSR2)
	<-sig
}
