// Package tick owns the periodic loop the gateway's health probes and the console's polling
// sources share: run now, then at every tick until the context ends.
//
// Like every internal/ helper it imports nothing of the project.
package tick
