//go:build race

package faults_test

// raceBuild: the tests run with the race detector, so the daemon they build has it too.
const raceBuild = true
