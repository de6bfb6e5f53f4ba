"""alerts: rules over metric state, alert lifecycle (pending, firing, resolved), audit."""
