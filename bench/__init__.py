"""`make bench`: performance measured as ratios against baselines taken in the same run."""
