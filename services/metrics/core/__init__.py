"""The pure core: SalesEvent in, state changes out. No broker, no DB, no wall clock."""
