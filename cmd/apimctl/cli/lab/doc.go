// Package lab is `apimctl lab`: the local lab of real components on loopback — up, down,
// status, env, and the fault drills (stop, scale, traffic, fault). Every change to the lab runs
// through the one action runner (read-only mode refuses it; the audit log records it).
package lab
