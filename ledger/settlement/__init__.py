"""分账 settlement: a pure, deterministic function of a period's play rows, the works' rules
and the split versions in force, in integer minor units."""
