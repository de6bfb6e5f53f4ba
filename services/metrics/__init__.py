"""metrics: per-rep, per-opportunity state from SalesEvents (faust-streaming)."""
