"""Side-by-side benchmarks against the anchor libraries (``make bench``)."""
