// Package iostreams is a command's terminal: where data, progress and prompts go, and
// whether each end is a terminal (no prompts and no colour without one). It may import
// nothing of the project.
package iostreams
