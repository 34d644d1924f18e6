"""Prints the median, min and max time of each command in a hyperfine --export-json file, in ms.

With --pool NAME, all results (e.g. one per --parameter-scan value) are pooled under NAME.
"""
import json
import statistics
import sys

results = json.load(open(sys.argv[1]))["results"]
if len(sys.argv) > 3 and sys.argv[2] == "--pool":
    results = [{"command": sys.argv[3], "times": [t for r in results for t in r["times"]]}]
for result in results:
    times = [t * 1000 for t in result["times"]]
    print(f"{result['command']}: median {statistics.median(times):.2f} ms "
          f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)")
