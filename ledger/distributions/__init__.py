"""Watermarked distributions: every copy of a work that leaves its rights holder carries its
own payload, and the record tying that payload to its recipient is anchored on chain."""
