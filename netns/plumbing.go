package netns

// Plumbing records the links made for one container, so that they can be
// removed again, also by a later daemon: it marshals to and from JSON.
// A Plumbing is not safe for concurrent use.
type Plumbing struct {
	Links []Link `json:"links"`
}

// Link records one interface that [Setup] or [Plumbing.Attach] made.
type Link struct {
	Kind Kind `json:"kind"`
	// HostName is the host end of a Veth, or the name a HostDev had on
	// the host; "" for a Macvlan.
	HostName string `json:"host,omitempty"`
	// HostIndex is the host end's ifindex, or the HostDev's before its
	// move. Teardown deletes a host end only if its index still matches,
	// so it never removes a later link that took the same name.
	HostIndex int `json:"hostIndex,omitempty"`
	// GuestName and GuestIndex identify the interface in the container.
	GuestName  string `json:"guest"`
	GuestIndex int    `json:"guestIndex,omitempty"`
	// MAC is the guest side's address. Teardown acts on a link in the
	// container only if its address still matches.
	MAC string `json:"mac,omitempty"`
	// MTU is a HostDev's MTU before the move, restored when it returns.
	MTU int `json:"mtu,omitempty"`
	// Up tells whether a HostDev was up before the move; it is brought
	// up again when it returns.
	Up bool `json:"up,omitempty"`
	// Physical tells that a HostDev is a device of the machine (no link
	// kind), which the kernel returns to the host when the container's
	// namespace dies; virtual ones die with it.
	Physical bool `json:"physical,omitempty"`
}
