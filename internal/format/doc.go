// Package format says numbers, sizes and times the same way in every front end: the
// command line, the console and the messages of ops. It may import nothing of the project.
package format
