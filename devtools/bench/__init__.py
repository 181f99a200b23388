"""`make bench`: benchmarks against the emulator, measured side by side in one run and printed
as numbers and ratios, on their own cluster and ports (.local/bench-pg, ports 2544x)."""
