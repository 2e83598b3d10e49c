"""Piracy cases: a registered work found at a URL, its evidence anchored on chain, its
takedown notices and the life of its link."""
