// Package e2e tests the niv daemons end to end: `niv vis` and `niv iv` as
// separate processes, each in its own network namespace, VMs as network
// namespaces behind TAP devices, driven through the niv command line.
// The tests need root and iproute2.
package e2e
