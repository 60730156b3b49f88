package sync

// ApplyResult counts what applying changes did to the mirror, one count per row.
type ApplyResult struct {
	Created   int // rows the mirror did not have
	Updated   int // rows whose values changed
	Deleted   int // rows newly marked deleted
	Unchanged int // rows that already said what the changes said
	// Drifted lists rows whose mirror values differed from the provider's previous state
	// (Change.Previous): a change was missed, and the row is flagged for re-fetching.
	Drifted []Key
}

// Add adds o's counts to r.
func (r *ApplyResult) Add(o ApplyResult) {
	r.Created += o.Created
	r.Updated += o.Updated
	r.Deleted += o.Deleted
	r.Unchanged += o.Unchanged
	r.Drifted = append(r.Drifted, o.Drifted...)
}

// Repairs is the number of rows the changes had to create, change or delete.
func (r ApplyResult) Repairs() int { return r.Created + r.Updated + r.Deleted }
