package store

import (
	"testing"
	"time"
)

// Times are rounded as PostgreSQL rounds them, so a value read back compares equal.
func TestToMicrosRoundsHalfToEven(t *testing.T) {
	base := time.Date(2022, 8, 22, 9, 6, 29, 0, time.UTC)
	for ns, want := range map[int]int{
		678334_500: 678334_000, // half, even below: down
		678335_500: 678336_000, // half, odd below: up
		678334_501: 678335_000,
		678334_499: 678334_000,
		999999_600: 1_000_000_000,
	} {
		got := toMicros(base.Add(time.Duration(ns)))
		if got.Sub(base) != time.Duration(want) {
			t.Errorf("%d ns rounds to %v, want %d ns", ns, got.Sub(base), want)
		}
	}
}
