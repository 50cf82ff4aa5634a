// Package clienttest plays the hostile clients of the gateway's tests and of the lab's
// gateways' tests: for now, a client that trickles its request body.
package clienttest
