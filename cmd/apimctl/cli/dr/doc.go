// Package dr is `apimctl dr`: the disaster-recovery drill (restore the newest backup into a
// second target and prove it serves) and the canary it checks. Both run as actions of
// ops/dr through the one runner.
package dr
