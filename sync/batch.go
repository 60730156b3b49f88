package sync

// PullBatch is the most changes a Puller hands emit at once. A page of a provider's API that
// holds more is handed on in parts while it is read, so that neither the puller nor the store
// ever holds a whole page, whatever page size the API answers with.
const PullBatch = 1000

// PullBatcher gathers a puller's changes and hands them to emit PullBatch at a time.
type PullBatcher struct {
	emit    func([]Change) error
	changes []Change
}

// NewPullBatcher returns an empty batcher that hands its changes to emit.
func NewPullBatcher(emit func([]Change) error) *PullBatcher {
	return &PullBatcher{emit: emit}
}

// Add adds c, and hands the batch on once it is full.
func (b *PullBatcher) Add(c Change) error {
	if b.changes == nil {
		b.changes = make([]Change, 0, PullBatch)
	}
	b.changes = append(b.changes, c)
	if len(b.changes) < PullBatch {
		return nil
	}
	return b.Flush()
}

// Flush hands on what the batch holds, if anything (emit keeps no reference to it).
func (b *PullBatcher) Flush() error {
	if len(b.changes) == 0 {
		return nil
	}
	changes := b.changes
	b.changes = nil
	return b.emit(changes)
}

// Reset drops what the batch holds without handing it on (a page read again from its start).
func (b *PullBatcher) Reset() {
	b.changes = nil
}
