"""Heavy media work as jobs: hashing a registered master's frames, marking a distribution's copy.

A job is a row (`MediaJob`) in two steps. The media step reads the stored upload and writes
only files and the row (hashes, the marked copy), so it runs anywhere that sees the database
and the data directory: in the service (the embedded default) or on a Dramatiq worker over the
crawl's Redis queue (`media_jobs = "queue"`). The ledger step (the work or the copy's record
and its chain write) then runs in the service. Each step is taken under a lease in the row, so
a step whose runner died is taken over, and a step already done is never done again.
"""
