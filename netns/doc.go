// Package netns is container network plumbing: it creates and removes the
// links of a container's interfaces and configures them inside the
// container's network namespace. It knows nothing of libvirt XML, RPC or
// the driver: callers describe each interface with an [Iface].
//
// [Setup] makes every interface of a starting container and returns a
// [Plumbing], a serialisable record of what it made; [Plumbing.Teardown]
// undoes it, also from a record that a later daemon read back from disk.
// [Plumbing.Attach] and [Plumbing.Detach] add and remove one interface of
// a running container.
//
// # Threads
//
// Nothing here calls setns on a Go thread. Work inside a container goes
// through a netlink socket opened in its namespace ([netlink.NewHandleAt]
// enters the namespace on a locked thread only for the socket call and
// returns at once), and links are created directly in the container's
// namespace by passing its namespace file descriptor to the kernel
// (IFLA_NET_NS_FD), so a guest-side name such as eth0 never exists in the
// host's namespace, even briefly.
package netns
