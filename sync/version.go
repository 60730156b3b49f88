package sync

import "time"

// Version orders the changes to one mirror field. A change sets a field only when its Version is
// not older than the version that set the field last, so events may be applied in any order and
// the mirror still converges (docs/rules.md, "Which change wins").
//
// The order is the resource's own version first (At: Bamboo's modifiedDate, sticky.io's
// updated_at, BareCommerce's updatedAt...), then the time the provider stamped the event
// (EventAt: Bamboo's body timestamp, sticky.io's envelope time...), then the order storemirror
// received it in (Seq: the inbox event id, or a number drawn for a reconcile page).
//
// One exception keeps a reconcile pull able to repair what an event without any provider time
// set: such an event is versioned at its receipt (Received), a time on storemirror's clock, and a
// pull (Pulled) is compared with it on that same clock, by the time it was fetched (its EventAt).
type Version struct {
	At      time.Time // the resource's version: the provider's modified time, else when received
	EventAt time.Time // when the provider stamped the event; for a pull, when it was fetched
	Seq     int64     // receive order
	// Received says At is when storemirror received the event: it carried no provider time.
	Received bool
	// Pulled says the change was read from the provider's API by a reconcile pass at EventAt.
	Pulled bool
}

// Compare returns -1, 0 or +1 as v is older than, the same as, or newer than w.
func (v Version) Compare(w Version) int {
	if v.Received && w.Pulled || v.Pulled && w.Received {
		// Both on storemirror's clock: when the event was received, when the pull was fetched.
		if c := v.local().Compare(w.local()); c != 0 {
			return c
		}
		return cmpSeq(v.Seq, w.Seq)
	}
	if c := v.At.Compare(w.At); c != 0 {
		return c
	}
	if c := v.EventAt.Compare(w.EventAt); c != 0 {
		return c
	}
	return cmpSeq(v.Seq, w.Seq)
}

// local is the version's time on storemirror's clock: the fetch of a pull, the receipt of an
// event without a provider time.
func (v Version) local() time.Time {
	if v.Pulled {
		return v.EventAt
	}
	return v.At
}

func cmpSeq(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IsZero reports whether v is the zero Version (a field never set).
func (v Version) IsZero() bool { return v.At.IsZero() && v.Seq == 0 }

// MaxClockLead is how far ahead of its receipt (or fetch) a provider time may be and still be
// trusted. A time further ahead is a bad clock, not news from the future: left as it is, one
// event dated 9999-01-01 would win over every later genuine event, forever.
const MaxClockLead = time.Hour

// Received versions a change the provider sent without any time of its own: at its receipt.
func Received(at time.Time) Version { return Version{At: at, EventAt: at, Received: true} }

// Trust applies MaxClockLead to v, a version of something received (or fetched) at local: a
// provider time more than MaxClockLead ahead of it is taken as local, as though the event had
// been sent when it was received. It returns the version to use and how far ahead the furthest
// of its times was (0 when both were trusted).
func (v Version) Trust(local time.Time) (Version, time.Duration) {
	var lead time.Duration
	limit := local.Add(MaxClockLead)
	if v.At.After(limit) {
		lead = v.At.Sub(local)
		v.At = local
		v.Received = !v.Pulled // for a pull, local is the fetch: the version is the pull's own
	}
	if v.EventAt.After(limit) {
		lead = max(lead, v.EventAt.Sub(local))
		v.EventAt = local
	}
	return v, lead
}
