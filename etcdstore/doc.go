// Package etcdstore keeps the shared state of a fleet of VISes in etcd
// (through its v3 API, go.etcd.io/etcd/client/v3): the port-profile
// configuration every VIS follows (Profiles, a profile.Store) and the
// registry of every vEth (Registry, a registry.Registry). It is a nested
// module so that importing niv's codecs or cores never pulls etcd in.
//
// # Keys
//
// Under a prefix (default "/niv/"):
//
//	profiles/config    the profile configuration, as NX-OS text (Config.Text)
//	veth/ids           the last vEth id handed out in a block
//	veth/rec/UUID      a vEth's id and configuration, by VM instance UUID
//	veth/bind/UUID     where it is bound (VIS, port, VIF, epoch); on the VIS's lease
//	veth/count/UUID    its counters: the sum of every checkpoint
//	veth/use/P/UUID    the vEth counts against port-profile P; on the holder's lease
//	veth/home/VIS/UUID where VIS held it (no lease): what a VIS restarting with no state takes back
//
// # Profiles
//
// The configuration is one versioned value. Update is a compare-and-swap
// on its revision (a Txn If ModRevision(config) == the revision the edit
// started from), so two managers editing at once never lose an edit: the
// loser re-runs its edit on the winner's configuration, up to
// ProfilesOptions.Retries times, then returns ErrConflict. Every Profiles
// watches the key from its revision and recompiles the policies of the
// vEths bound through it (profile.Follow); after a watch compaction it
// reads the key again. A Profiles cut off from etcd keeps its last state,
// and so its VIS keeps forwarding with its last policies.
//
// The bindings vEth → profile of a Profiles are its own VIS's: they live
// with the VIS (and in the Registry, as each vEth's configuration), not in
// the shared configuration, which stays one small key whatever the number
// of vEths. What the fleet must agree on is checked through etcd: a
// profile's max-ports counts the keys under veth/use/P/ (Allocate takes a
// port with a compare on the whole prefix, so two VISes racing for the
// last one cannot both win), and Update refuses to delete or disable a
// profile while any key is there.
//
// # Registry
//
// Ids are allocated across the fleet, create if absent: a VIS reserves a
// block of ids with a compare-and-swap on veth/ids and creates a record
// only if none exists (If Version == 0). Each VIS holds a lease; its
// bindings are put with it. When a VIS dies (or is cut off for longer
// than the lease), its bindings expire and the other VISes are told
// (registry.Orphaned); one of them binds the vEths again, with the same
// ids, configuration and counters. A migration binds the vEth elsewhere
// at a newer epoch; the old VIS is told (registry.Taken) and adds what it
// counted since its last checkpoint. Counters are only ever added to
// (Checkpoint), never overwritten, so none is counted twice. Apply takes
// many calls at once and groups them, 20 vEths to a transaction (one
// read, one compare-and-swap write); a VIS daemon queues them on a
// registry.Pipeline, so that its vic machine never waits for etcd. A VIS
// that restarts with no local state reads what it held from its
// veth/home/VIS/ keys (Restore) and binds it again.
//
// The vEths of VSIs associated over VDP on a VIS's evb ports are records
// like any other, keyed by registry.VSIInstance (a UUID-format VSIID, the
// VM's instance UUID that libvirt sends, is the key itself; the other
// formats get a version-5 UUID of format and VSIID), bound with VIF 0 on
// the evb port, one placement epoch above the VIS that held them when a
// station associates them elsewhere.
package etcdstore
