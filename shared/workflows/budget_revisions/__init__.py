"""Budget revisions: a fixed year's changed budget cell, held until an approver approves it (issue 16.4)."""
