//go:build race

package probe

// raceDetector says the tests run under the race detector, where the slowest
// property checks sample their inputs (the full set runs without it).
const raceDetector = true
