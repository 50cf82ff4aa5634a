// Package status is `apimctl status`: the whole deployment in one screenful, or as JSON.
package status
