// Package redact hides credentials in text that is about to be shown or recorded: passwords
// in URLs (scheme://user:password@host), and secret query parameters (password=, sig=, …).
// It may import nothing of the project.
package redact
