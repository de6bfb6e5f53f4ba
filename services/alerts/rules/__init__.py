"""One module per rule family; each rule is a pure function of (state, config, now)."""
