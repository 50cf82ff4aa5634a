// Package debug holds the hidden commands that measure the console for make bench.
package debug
